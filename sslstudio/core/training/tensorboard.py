"""TensorBoard's files beside sslstudio's own, when the tensorboard package is installed (the `tensorboard`
extra); without it nothing here runs and nothing is missed (metrics.jsonl stays the record).

- Every run writes an event file in its own folder: loss, learning rate, speed, the task's metrics, the health
  checks (collapse std, effective rank, online kNN accuracy), and each probe scored on it. So
  `tensorboard --logdir RUNS` lists the runs of a project side by side, as people compare runs. A run resumed
  from an earlier checkpoint purges what the event file held after it, as metrics.jsonl drops those lines.
- `write_projector` writes the embedding projector's files: the vectors, a metadata TSV (id, label) and, for
  images, a sprite of thumbnails, so TensorBoard's Projector tab opens the embeddings.

torch's SummaryWriter writes the files (its own background thread does the disk writes).
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

from sslstudio.core.errors import UserError
from sslstudio.core.training.events import CheckpointSaved, HealthMetrics, StepMetrics

SPRITE_SIDE_PX = 8192  # TensorBoard's projector refuses a larger sprite
THUMBNAIL_PX = 32


def available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def _writer(log_dir: str | Path, purge_step: int | None = None):
    from torch.utils.tensorboard import SummaryWriter  # loads tensorboard

    return SummaryWriter(log_dir=str(log_dir), purge_step=purge_step)


class RunBoard:
    """A trainer listener that writes each logged step and health check to the run folder's event file; the
    training session closes it when the run ends."""

    def __init__(self, run_path: str | Path, purge_step: int | None = None):
        self.writer = _writer(run_path, purge_step)

    def __call__(self, event) -> None:
        add = self.writer.add_scalar
        if isinstance(event, StepMetrics):
            add("loss", event.loss, event.step)
            add("learning_rate", event.lr, event.step)
            add("speed/samples_per_s", event.samples_per_s, event.step)
            add("speed/data_wait_share", event.data_wait_share, event.step)
            for name, value in event.metrics.items():
                add(f"task/{name}", value, event.step)
        elif isinstance(event, HealthMetrics):
            add("health/collapse_std", event.collapse_std, event.step)
            add("health/effective_rank", event.effective_rank, event.step)
            if event.knn_accuracy is not None:
                add("health/knn_accuracy", event.knn_accuracy, event.step)
        elif isinstance(event, CheckpointSaved):
            self.writer.flush()  # what TensorBoard shows keeps up with what can be resumed

    def close(self) -> None:
        self.writer.close()


def board_for(run_path: str | Path, purge_step: int | None = None) -> RunBoard | None:
    """The run's TensorBoard listener, or None without the tensorboard package."""
    return RunBoard(run_path, purge_step) if available() else None


def record_probe(run, result: dict) -> None:
    """A probe's score (and its baselines') on a loaded run, at its checkpoint's step, as
    probe/<method>@<k> per class. Not for a shipped reference run (its folder belongs to the package), nor where
    the run folder cannot be written: the probe's result stands without it."""
    if not available() or run.checkpoint is None or "reference" in run.config:
        return
    kept = {path.name: step for step, path in run.run_dir.checkpoints()}
    step = kept.get(run.checkpoint.name) or run.run_dir.last_logged_step()  # last.pt: the last logged step
    tag = f"probe/{result['method']}@{result['per_class']}"
    try:
        writer = _writer(run.run_dir.path)
    except OSError:
        return
    try:
        writer.add_scalar(tag, result["accuracy"], step)
        for name, value in result.get("baselines", {}).items():
            writer.add_scalar(f"{tag}/{name}", value, step)
    finally:
        writer.close()


def write_projector(log_dir: str | Path, vectors: np.ndarray, ids: list[str], labels: list[str | None],
                    samples=None, tag: str = "embeddings") -> Path:
    """The projector's files under `log_dir`: vectors, metadata (id and label per row), and for an image
    SampleSet a sprite of thumbnails (read a chunk at a time). Returns the folder to point TensorBoard at."""
    import torch

    if not available():
        raise UserError("the projector's files need TensorBoard: pip install 'sslstudio[tensorboard]'")
    thumbnails = _thumbnails(samples) if samples is not None and samples.modality == "image" else None
    metadata = [[_cell(sample_id), _cell(label or "")] for sample_id, label in zip(ids, labels)]
    writer = _writer(log_dir)
    try:
        writer.add_embedding(torch.from_numpy(np.asarray(vectors, dtype=np.float32)), metadata=metadata,
                             metadata_header=["id", "label"], label_img=thumbnails, tag=tag)
    finally:
        writer.close()
    return Path(log_dir)


def _thumbnails(samples, chunk: int = 512):
    """(N, 3, s, s) float thumbnails in [0, 1], s as large as a sprite of N allows (at most 32 px)."""
    import torch
    import torch.nn.functional as F

    side = max(4, min(THUMBNAIL_PX, SPRITE_SIDE_PX // math.ceil(math.sqrt(len(samples)))))
    small = torch.empty((len(samples), 3, side, side), dtype=torch.uint8)
    for start in range(0, len(samples), chunk):
        rows = np.arange(start, min(start + chunk, len(samples)))
        pixels = torch.from_numpy(np.ascontiguousarray(samples.records.images(rows))).permute(0, 3, 1, 2).float()
        if pixels.shape[1] == 1:
            pixels = pixels.expand(-1, 3, -1, -1)
        small[rows] = F.interpolate(pixels, size=(side, side), mode="area").round().clamp(0, 255).to(torch.uint8)
    return small.float() / 255


def _cell(text: str) -> str:
    """One TSV cell: tabs and line breaks would shift the projector's columns and rows."""
    return " ".join(str(text).split())

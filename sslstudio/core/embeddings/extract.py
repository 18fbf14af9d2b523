"""Run a trained backbone over samples, a batch at a time, and store the embeddings.

The inputs stream from the sample store (the next batch is read while this one runs), and the
vectors go into an array that is either in memory or, for a large folder, a `.npy` file filled
chunk by chunk: memory holds one batch of inputs, never the folder's.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from sslstudio.core.data.dataset import SampleSet
from sslstudio.core.io import atomic_write
from sslstudio.core.training.device import resolve_device
from sslstudio.core.training.session import LoadedRun

IN_MEMORY_ROWS = 50_000  # feature matrices of more samples live in a file and are read in rows


Into = Callable[[int], np.ndarray]  # the (N, dim) array to fill, given dim


@torch.no_grad()
def compute_embeddings(run: LoadedRun, samples: SampleSet, batch_size: int = 256, device: str = "auto",
                       progress: Callable[[int, int], None] | None = None, into: Into | None = None) -> np.ndarray:
    """(N, D) float32 embeddings, in the order of `samples`.

    `into(dim)` gives the array to fill (a memory-mapped file for a large folder); by default an array
    in memory."""
    target = resolve_device(device)
    backbone = run.backbone.to(target).eval()
    preprocess = run.pipeline.preprocess.to(target).eval()
    embed = lambda raw: backbone(preprocess(raw.to(target, non_blocking=True))).float().cpu().numpy()  # noqa: E731
    return per_batch(run.pipeline, samples, embed, batch_size, progress, into)


def per_batch(pipeline, samples: SampleSet, compute: Callable[[torch.Tensor], np.ndarray], batch_size: int = 256,
              progress: Callable[[int, int], None] | None = None, into: Into | None = None) -> np.ndarray:
    """compute(raw batch) -> (B, D) rows, for every evaluation batch of the samples, in one (N, D) array."""
    rows, done = None, 0
    for raw in pipeline.eval_batches(samples, batch_size):
        chunk = compute(raw)
        if rows is None:
            rows = (into or (lambda dim: np.empty((len(samples), dim), np.float32)))(chunk.shape[1])
        rows[done:done + len(chunk)] = chunk
        done += len(chunk)
        if progress is not None:
            progress(done, len(samples))
    return rows


class FeatureFile:
    """A (N, D) float32 matrix in a `.npy` file, read by rows; each read maps the file only for as long as it
    copies the rows out, so a pass over every row does not leave the file in the process's memory."""

    def __init__(self, path: Path):
        self.path = Path(path)
        header = np.load(self.path, mmap_mode="r")
        self.shape, self.dtype = header.shape, header.dtype
        del header

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        mapped = np.load(self.path, mmap_mode="r")
        try:
            return np.array(mapped[rows])
        finally:
            del mapped


def feature_matrix(n: int, compute: Callable[[Callable[[int], np.ndarray] | None], np.ndarray],
                   folder: Path, name: str) -> np.ndarray | FeatureFile:
    """compute(into) in memory for up to IN_MEMORY_ROWS samples, else into `folder/name.npy`
    (rewritten), read back by rows."""
    if n <= IN_MEMORY_ROWS:
        return compute(None)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.npy"
    compute(lambda dim: open_npy(path, n, dim))
    return FeatureFile(path)


def open_npy(path: Path, n: int, dim: int) -> np.ndarray:
    """A float32 (n, dim) `.npy` file mapped for writing; its pages go back to the file as they fill."""
    return np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))


def save_embeddings(path: str | Path, embeddings: np.ndarray, samples: SampleSet) -> None:
    """npz with embeddings (N,D) float32, paths (N,), and labels (N,) when every sample has one."""
    arrays = {"embeddings": np.asarray(embeddings, dtype=np.float32), "paths": np.array(samples.ids, dtype=str)}
    if samples.has_labels:
        arrays["labels"] = np.array([label or "" for label in samples.labels], dtype=str)
    atomic_write(path, lambda f: np.savez(f, **arrays))

"""Run a trained backbone over samples and store the embeddings."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from sslstudio.core.data.dataset import SampleSet
from sslstudio.core.training.atomic import atomic_write
from sslstudio.core.training.device import resolve_device
from sslstudio.core.training.session import LoadedRun


@torch.no_grad()
def compute_embeddings(run: LoadedRun, samples: SampleSet, batch_size: int = 256, device: str = "auto",
                       progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(N, D) float32 embeddings, in the order of `samples`."""
    target = resolve_device(device)
    backbone = run.backbone.to(target).eval()
    preprocess = run.pipeline.preprocess.to(target).eval()
    raw = run.pipeline.raw(samples)
    chunks = []
    for start in range(0, len(raw), batch_size):
        inputs = preprocess(raw[start:start + batch_size].to(target))
        chunks.append(backbone(inputs).float().cpu())
        if progress is not None:
            progress(min(start + batch_size, len(raw)), len(raw))
    return torch.cat(chunks).numpy().astype(np.float32)


def save_embeddings(path: str | Path, embeddings: np.ndarray, samples: SampleSet) -> None:
    """npz with embeddings (N,D) float32, paths (N,), and labels (N,) when every sample has one."""
    arrays = {"embeddings": embeddings.astype(np.float32), "paths": np.array(samples.ids, dtype=str)}
    if samples.has_labels:
        arrays["labels"] = np.array([label or "" for label in samples.labels], dtype=str)
    atomic_write(path, lambda f: np.savez(f, **arrays))

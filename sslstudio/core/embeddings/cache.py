"""Embeddings of a folder under one checkpoint, computed once and kept beside the run.

A cached file is keyed by the checkpoint (its name, size and modification time,
so a checkpoint rewritten in place is not mistaken for the old one) and by the
folder's sample fingerprint (the ordered sample ids). Files are written
atomically, so a crash mid-extraction leaves no half file behind.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sslstudio.core.data.dataset import SampleSet
from sslstudio.core.training.atomic import atomic_write

CACHE_FOLDER = "embeddings"


@dataclass(frozen=True)
class Embeddings:
    """(N, D) float32 vectors with the sample ids and labels ("" when unknown), in folder order."""

    vectors: np.ndarray
    ids: np.ndarray
    labels: np.ndarray
    checkpoint: str

    def __len__(self) -> int:
        return len(self.vectors)


def cache_key(checkpoint: Path, samples: SampleSet) -> str:
    stat = checkpoint.stat()
    digest = hashlib.sha1(f"{checkpoint.name}|{stat.st_size}|{stat.st_mtime_ns}|{samples.fingerprint()}".encode())
    return f"{checkpoint.stem}-{digest.hexdigest()[:12]}"


def cache_path(run_path: Path, checkpoint: Path, samples: SampleSet) -> Path:
    return Path(run_path) / CACHE_FOLDER / f"{cache_key(checkpoint, samples)}.npz"


def load_or_compute(run_path: str | Path, samples: SampleSet, checkpoint: str | Path | None = None,
                    device: str = "auto", progress: Callable[[int, int], None] | None = None,
                    loaded=None) -> Embeddings:
    """The samples' embeddings under `checkpoint` (default: the run's last), from the cache when present.

    `loaded`: the run already loaded with that checkpoint, so it is not read twice.
    `progress(done, total)` may raise (for example `Cancelled`) to stop; nothing is cached then.
    """
    from sslstudio.core.embeddings.extract import compute_embeddings
    from sslstudio.core.training.session import load_run

    run = loaded or load_run(run_path, checkpoint)
    path = cache_path(Path(run_path), run.checkpoint, samples)
    labels = np.array([label or "" for label in samples.labels], dtype=str)
    ids = np.array(samples.ids, dtype=str)
    if path.is_file():
        try:
            with np.load(path) as stored:
                if stored["ids"].tolist() == ids.tolist():
                    return Embeddings(stored["vectors"], ids, labels, run.checkpoint.name)
        except (OSError, ValueError, KeyError):
            pass  # an unreadable cache file is recomputed and replaced
    vectors = compute_embeddings(run, samples, device=device, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: np.savez(f, vectors=vectors, ids=ids))
    return Embeddings(vectors, ids, labels, run.checkpoint.name)

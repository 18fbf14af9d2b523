"""Embeddings of a folder under one checkpoint, computed once and kept beside the run.

A cached file is keyed by the checkpoint (its name, size and modification time,
so a checkpoint rewritten in place is not mistaken for the old one) and by the
folder's sample fingerprint (the ordered sample ids and where their decoded data
lies). Vectors stream into a `.npy` file a batch at a time and it is renamed
into place only when complete, so a crash mid-extraction leaves no half file
behind.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sslstudio.core.data.dataset import SampleSet
from sslstudio.core.io import atomic_write, remove_stale
from sslstudio.core.progress import Progress

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
    return Path(run_path) / CACHE_FOLDER / f"{cache_key(checkpoint, samples)}.npy"


def load_or_compute(run_path: str | Path, samples: SampleSet, checkpoint: str | Path | None = None,
                    device: str = "auto", progress: Progress | None = None,
                    loaded=None) -> Embeddings:
    """The samples' embeddings under `checkpoint` (default: the run's last), from the cache when present.

    `loaded`: the run already loaded with that checkpoint, so it is not read twice.
    `progress(done, total)` may raise (for example `Cancelled`) to stop; nothing is cached then.
    """
    from sslstudio.core.training.session import load_run

    run = loaded or load_run(run_path, checkpoint)
    labels = np.array([label or "" for label in samples.labels], dtype=str)
    return Embeddings(cached_vectors(run, samples, device, progress), np.array(samples.ids, dtype=str), labels,
                      run.checkpoint.name)


def cached_vectors(run, samples: SampleSet, device: str = "auto", progress: Progress | None = None):
    """The samples' embeddings under the loaded run's checkpoint, computed into the cache if not there yet:
    an array."""
    from sslstudio.core.embeddings.extract import NpyRows, compute_embeddings

    path = cache_path(run.run_dir.path, run.checkpoint, samples)
    ids_path = path.with_suffix(".ids.npy")
    ids = np.array(samples.ids, dtype=str)
    if not _holds(path, ids_path, ids):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path.parent, "*.partial")
        handle, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".partial", dir=path.parent)
        os.close(handle)  # a file of this job's own: two jobs embedding at once do not write into one
        partial = Path(name)
        try:
            compute_embeddings(run, samples, device=device, progress=progress,
                               into=lambda dim: NpyRows(partial, len(samples), dim)).close()
            atomic_write(ids_path, lambda f: np.save(f, ids))
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    return np.load(path)


def cached_rows(run, samples: SampleSet):
    """The samples' embeddings under the loaded run's checkpoint as a `FeatureFile` read by rows, when the cache
    holds them already (the map computed them); else None."""
    from sslstudio.core.embeddings.extract import FeatureFile

    path = cache_path(run.run_dir.path, run.checkpoint, samples)
    return FeatureFile(path) if _holds(path, path.with_suffix(".ids.npy"), np.array(samples.ids, dtype=str)) else None


def _holds(path: Path, ids_path: Path, ids: np.ndarray) -> bool:
    """True when the cache has whole vectors for exactly these samples; a damaged file is recomputed."""
    try:
        if not path.is_file() or np.load(ids_path).tolist() != ids.tolist():
            return False
        vectors = np.load(path, mmap_mode="r")  # reads the header only
        return vectors.shape[0] == len(ids) and path.stat().st_size >= vectors.nbytes
    except (OSError, ValueError):
        return False


def embed_folder(run_path: str | Path, folder: str | Path, checkpoint: str | Path | None = None, device: str = "auto",
                 progress: Progress | None = None, samples: SampleSet | None = None,
                 decode_progress: Progress | None = None) -> tuple[SampleSet, Embeddings]:
    """Decode `folder` as the run saw it (unless `samples` are already decoded) and embed it with `checkpoint`
    (cached per checkpoint): what the CLI's `embed` and the Embeddings page's map both start from."""
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.training.session import load_run

    run = load_run(run_path, checkpoint)
    if samples is None:
        samples = load_folder(folder, run.modality, spec=run.pipeline.spec, progress=decode_progress or progress)
    return samples, load_or_compute(run_path, samples, checkpoint, device, progress, loaded=run)


def embed_every_checkpoint(run_path: str | Path, folder: str | Path, progress: Progress | None = None) -> list:
    """The folder's embeddings under each kept checkpoint of the run, oldest first, then its last (decoded once,
    each cached): what a time-lapse of the map is made from."""
    from sslstudio.core.training.run_dir import RunDir

    vectors, samples = [], None
    for checkpoint in [path for _, path in RunDir(run_path).checkpoints()] + [None]:
        samples, embeddings = embed_folder(run_path, folder, checkpoint, progress=progress, samples=samples)
        vectors.append(embeddings.vectors)
    return vectors

"""Decode a folder (or a list of files) into one in-memory SampleSet.

Decoding runs on a thread pool: Pillow and libsndfile release the GIL, so two
cores decode about twice as fast. Files that fail are kept in `bad` with their
reason; the rest load. Samples are stored decoded and resized, so training
reads them from memory and never waits on the disk.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sslstudio.core.data.loaders import InputSpec, Unusable, load_audio, load_image, load_text
from sslstudio.core.data.scan import BadFile, label_from_relpath, scan_folder
from sslstudio.core.errors import UserError

Progress = Callable[[int, int], None]


@dataclass
class SampleSet:
    """Decoded samples of one modality with their ids, labels and the files skipped."""

    modality: str
    root: Path
    ids: list[str]
    labels: list[str | None]
    data: np.ndarray | list[str]  # images (N,H,W,3) uint8, audio (N,T) float32, or texts
    spec: InputSpec
    bad: list[BadFile] = field(default_factory=list)
    splits: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, indices: Sequence[int]) -> "SampleSet":
        idx = list(indices)
        data = [self.data[i] for i in idx] if isinstance(self.data, list) else self.data[idx]
        splits = [self.splits[i] for i in idx] if self.splits is not None else None
        return SampleSet(self.modality, self.root, [self.ids[i] for i in idx],
                         [self.labels[i] for i in idx], data, self.spec, list(self.bad), splits)

    @property
    def has_labels(self) -> bool:
        return any(label is not None for label in self.labels)

    def fingerprint(self) -> str:
        digest = hashlib.sha1()
        for sample_id in self.ids:
            digest.update(sample_id.encode("utf-8", "surrogateescape") + b"\n")
        return digest.hexdigest()[:16]


def load_folder(root: str | os.PathLike, modality: str | None = None, labels: str = "auto",
                spec: InputSpec = InputSpec(), progress: Progress | None = None) -> SampleSet:
    """Scan and decode every file of one modality under `root`.

    labels: "folders" takes each first-level subfolder name as the class, "none"
    ignores them, "auto" uses folders when every file sits in one of two or more.
    """
    scan = scan_folder(root)
    modality = scan.choose_modality(modality)
    relpaths = scan.files[modality]
    use_folders = labels == "folders" or (labels == "auto" and scan.looks_labelled(modality))
    file_labels = [label_from_relpath(p) if use_folders else None for p in relpaths]
    samples = load_files(Path(root), relpaths, modality, spec, file_labels, progress=progress)
    samples.bad = scan.bad + samples.bad
    return samples


def load_files(root: Path, relpaths: Sequence[str], modality: str, spec: InputSpec,
               labels: Sequence[str | None] | None = None, splits: Sequence[str | None] | None = None,
               progress: Progress | None = None) -> SampleSet:
    """Decode the given files (paths relative to root, or absolute) of one modality."""
    labels = list(labels) if labels is not None else [None] * len(relpaths)
    decoded = _decode_all(root, relpaths, modality, spec, progress)
    ids, out_labels, out_splits, arrays, bad = [], [], [], [], []
    for i, (relpath, result) in enumerate(zip(relpaths, decoded)):
        if isinstance(result, Unusable):
            bad.append(BadFile(relpath, str(result)))
            continue
        pieces = result if modality == "text" else [(relpath, result)]
        for sample_id, value in pieces:
            ids.append(sample_id)
            out_labels.append(labels[i])
            out_splits.append(splits[i] if splits is not None else None)
            arrays.append(value)
    if not ids:
        reasons = "; ".join(f"{b.path}: {b.reason}" for b in bad[:3])
        raise UserError(f"no usable {modality} files in {root}" + (f" ({reasons})" if reasons else ""))
    data = arrays if modality == "text" else np.stack(arrays)
    return SampleSet(modality, root, ids, out_labels, data, spec, bad,
                     out_splits if splits is not None else None)


def check_files(root: str | os.PathLike, relpaths: Sequence[str], modality: str, spec: InputSpec = InputSpec(),
                progress: Progress | None = None) -> list[BadFile]:
    """Decode every file as training would, keep nothing, and return the unusable ones with reasons.

    `progress` may raise (for example `Cancelled`) to stop early.
    """
    results = _decode_all(Path(root), relpaths, modality, spec, progress, keep=False)
    return [BadFile(relpath, str(result)) for relpath, result in zip(relpaths, results, strict=True)
            if isinstance(result, Unusable)]


_decode_threads: int | None = None  # None: one per core, at most 8


def set_decode_threads(count: int | None) -> None:
    """How many threads decode files (None: one per core). Training sets it with torch's thread
    count, so a run that leaves a core to the GUI does not take it back while loading."""
    global _decode_threads
    _decode_threads = None if count is None else max(1, min(8, count))


def _decode_all(root: Path, relpaths: Sequence[str], modality: str, spec: InputSpec,
                progress: Progress | None, keep: bool = True) -> list:
    def decode(relpath: str):
        path = os.path.join(root, relpath)
        try:
            if modality == "image":
                return load_image(path, spec)
            if modality == "audio":
                return load_audio(path, spec)
            return load_text(path, relpath, spec)
        except Unusable as exc:
            return exc

    total = len(relpaths)
    results = []
    pool = ThreadPoolExecutor(max_workers=_decode_threads or min(8, os.cpu_count() or 1))
    try:
        for done, result in enumerate(pool.map(decode, relpaths, chunksize=64), start=1):
            results.append(result if keep or isinstance(result, Unusable) else None)
            if progress is not None and (done % 256 == 0 or done == total):
                progress(done, total)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a cancel stops here, not after every file
    return results

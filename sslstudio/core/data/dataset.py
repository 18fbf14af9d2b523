"""A folder (or a list of files) as a SampleSet: ids, labels, and where each decoded sample lies.

Files are decoded once into the folder's sample store (`store.py`) and read back from there by
every command, so memory is bounded by what a step reads, never by the folder. A handful of
files that the store does not hold yet (a preview's samples while the store is still being
built) are decoded in memory instead, with the very same decoder. Files that fail are kept in
`bad` with their reason; the rest load.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from sslstudio.core.data.loaders import InputSpec, Unusable
from sslstudio.core.data.records import FileBlob, Records, decode_all, in_memory, stored_side
from sslstudio.core.data.sample_ids import file_of
from sslstudio.core.data.scan import BadFile, ScanResult, label_from_relpath, scan_folder
from sslstudio.core.data.store import SampleStore
from sslstudio.core.errors import UserError
from sslstudio.core.progress import Progress

IN_MEMORY_FILES = 512  # at most this many files missing from the store are decoded without it
DEFAULT_SPEC = InputSpec()  # frozen: one shared default is safe


@dataclass
class SampleSet:
    """Decoded samples of one modality with their ids, labels and the files skipped."""

    modality: str
    root: Path
    ids: list[str]
    labels: list[str | None]
    records: Records
    spec: InputSpec
    bad: list[BadFile] = field(default_factory=list)
    splits: list[str | None] | None = None
    notes: list[BadFile] = field(default_factory=list)  # usable files with something left out (broken lines)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, indices: Sequence[int]) -> SampleSet:
        idx = [int(i) for i in indices]
        splits = [self.splits[i] for i in idx] if self.splits is not None else None
        return replace(self, ids=[self.ids[i] for i in idx], labels=[self.labels[i] for i in idx],
                       records=self.records.take(idx), bad=list(self.bad), splits=splits, notes=list(self.notes))

    @property
    def has_labels(self) -> bool:
        return any(label is not None for label in self.labels)

    def fingerprint(self) -> str:
        """Changes when the samples or their decoded contents change (a re-decoded file moves)."""
        digest = hashlib.sha1()
        for sample_id in self.ids:
            digest.update(sample_id.encode("utf-8", "surrogateescape") + b"\n")
        if self.records.store is not None:
            digest.update(self.records.offsets.tobytes())
        return digest.hexdigest()[:16]

    def item(self, i: int):
        """One sample as a viewer shows it: an HWC image at the stored side, a clip's waveform, a text."""
        if self.modality == "image":
            return self.records.images(np.array([i]))[0]
        if self.modality == "audio":
            length = int(self.records.clip_lengths()[i])
            return self.records.audio(np.array([i]), length)[0]
        return self.records.text(i)

    def texts(self, indices: Sequence[int] | None = None) -> list[str]:
        return self.records.texts(indices)

    def file_of(self, row: int) -> Path:
        """The file a sample comes from: talk.wav for its segment talk.wav#t=30, notes.jsonl for its line
        notes.jsonl#12 (what an export's `filepath` must name; `sample_ids.file_of` does it for a bare id)."""
        return Path(self.root) / file_of(self.ids[row])

    def groups(self) -> np.ndarray | None:
        """The source of each sample, where some share one: the segments of a recording (talk.wav#t=30)
        share its file, so a probe keeps them on one side of its split. None when every sample is its own."""
        if self.modality != "audio":
            return None
        files = [file_of(sample_id) for sample_id in self.ids]
        return None if files == self.ids else np.array(files)


def load_folder(root: str | os.PathLike, modality: str | None = None, labels: str = "auto",
                spec: InputSpec = DEFAULT_SPEC, progress: Progress | None = None,
                trust_recent_sync: bool = False, scan: ScanResult | None = None) -> SampleSet:
    """Scan and decode (once, into the store) every file of one modality under `root`.

    labels: "folders" takes each first-level subfolder name as the class, "none"
    ignores them, "auto" uses folders when every file sits in one of two or more.
    `trust_recent_sync`: see `SampleStore.sync` (torchrun ranks but the first). `scan`: the folder's scan when
    the caller made one already (it reads every file's size: a million files take seconds).
    """
    scan = scan or scan_folder(root)
    modality = scan.choose_modality(modality)
    relpaths = scan.files[modality]
    use_folders = labels == "folders" or (labels == "auto" and scan.looks_labelled(modality))
    file_labels = [label_from_relpath(p) if use_folders else None for p in relpaths]
    samples = load_files(Path(root), relpaths, modality, spec, file_labels, progress=progress, whole_folder=True,
                         trust_recent_sync=trust_recent_sync)
    samples.bad = scan.bad + samples.bad
    return samples


def load_files(root: Path, relpaths: Sequence[str], modality: str, spec: InputSpec,
               labels: Sequence[str | None] | None = None, splits: Sequence[str | None] | None = None,
               progress: Progress | None = None, whole_folder: bool = False, wait: bool = True,
               trust_recent_sync: bool = False) -> SampleSet:
    """Decode the given files (paths relative to root, or absolute) of one modality.

    `whole_folder`: these are all the folder's files, so the store forgets any others.
    `wait=False`: while another job holds the store, decode these files here instead of waiting (a preview).
    """
    root = Path(root)
    labels = list(labels) if labels is not None else [None] * len(relpaths)
    store = SampleStore.for_folder(root, modality, spec)
    small = len(relpaths) <= IN_MEMORY_FILES
    if not (small and not whole_folder and store.is_current(relpaths)):
        # A few files wait for nobody: while another job builds the store, they are decoded here.
        if not store.sync(relpaths, decode_threads(), progress, prune=whole_folder, wait=wait and not small,
                          trust_recent=trust_recent_sync):
            return _decode_in_memory(root, relpaths, modality, spec, labels, splits)
    entries = store.entries(relpaths)
    ids, out_labels, out_splits, offsets, sizes, checksums, bad = [], [], [], [], [], [], []
    notes = [BadFile(f"the sample store {store.path.name}", note) for note in store.notes]
    for i, relpath in enumerate(relpaths):
        entry = entries.get(relpath)
        if entry is None:
            raise UserError(f"the sample store of {root} does not hold {relpath}; it is being built by another "
                            f"process, or was cleared (run the command again)")
        if entry.reason is not None:
            bad.append(BadFile(relpath, entry.reason))
        if entry.note is not None:
            notes.append(BadFile(relpath, entry.note))
        for suffix, offset, size, checksum in entry.records:
            ids.append(relpath + suffix)
            out_labels.append(labels[i])
            out_splits.append(splits[i] if splits is not None else None)
            offsets.append(offset)
            sizes.append(size)
            checksums.append(checksum)
    _refuse_empty(ids, bad, modality, root)
    records = Records(modality, FileBlob(store.data_path, root.resolve()), np.array(offsets, dtype=np.int64),
                      np.array(sizes, dtype=np.int64), stored_side(spec.image_size), store,
                      checksums=np.array(checksums, dtype=np.uint32))
    return SampleSet(modality, root, ids, out_labels, records, spec, bad, out_splits if splits is not None else None,
                     notes)


def _decode_in_memory(root: Path, relpaths: Sequence[str], modality: str, spec: InputSpec,
                      labels: list, splits: Sequence[str | None] | None) -> SampleSet:
    ids, out_labels, out_splits, payloads, bad, notes = [], [], [], [], [], []

    def keep(i: int, result) -> None:
        note = getattr(result, "note", None)
        if note is not None:
            notes.append(BadFile(relpaths[i], note))
        if not isinstance(result, Unusable):
            try:
                result = list(result)
            except Unusable as exc:
                result = exc
        if isinstance(result, Unusable):
            bad.append(BadFile(relpaths[i], str(result)))
            return
        for suffix, payload in result:
            ids.append(relpaths[i] + suffix)
            out_labels.append(labels[i])
            out_splits.append(splits[i] if splits is not None else None)
            payloads.append(payload)

    decode_all(root, relpaths, modality, spec, decode_threads(), keep)
    _refuse_empty(ids, bad, modality, root)
    blob, offsets, sizes = in_memory(payloads)
    records = Records(modality, blob, offsets, sizes, stored_side(spec.image_size))
    return SampleSet(modality, root, ids, out_labels, records, spec, bad, out_splits if splits is not None else None,
                     notes)


def _refuse_empty(ids: list, bad: list[BadFile], modality: str, root: Path) -> None:
    if not ids:
        reasons = "; ".join(f"{b.path}: {b.reason}" for b in bad[:3])
        raise UserError(f"no usable {modality} files in {root}" + (f" ({reasons})" if reasons else ""))


def check_files(root: str | os.PathLike, relpaths: Sequence[str], modality: str, spec: InputSpec = DEFAULT_SPEC,
                progress: Progress | None = None) -> list[BadFile]:
    """Decode every file into the folder's store (the one decode training will read) and return the
    unusable ones with reasons. `progress` may raise (for example `Cancelled`) to stop early; what
    was decoded by then is kept."""
    store = SampleStore.for_folder(root, modality, spec)
    store.sync(relpaths, decode_threads(), progress)
    entries = store.entries(relpaths)
    return [BadFile(p, entries[p].reason) for p in relpaths if p in entries and entries[p].reason is not None]


_decode_threads: int | None = None  # None: one per core, at most 8


def set_decode_threads(count: int | None) -> None:
    """How many threads decode files (None: one per core). Training sets it with torch's thread
    count, so a run that leaves a core to the GUI does not take it back while loading."""
    global _decode_threads
    _decode_threads = None if count is None else max(1, min(8, count))


def decode_threads() -> int:
    return _decode_threads or min(8, os.cpu_count() or 1)

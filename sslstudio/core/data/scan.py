"""Recursive folder scan: which files are there, of which modality, with which label.

The scan never opens a file, so 100k files take well under a second; decoding
and its errors belong to `loaders`. It does read each data file's size, so an empty
file is reported at once, whatever the modality. Symlinked folders are followed once each
(by device and inode), so a link back up the tree cannot loop.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sslstudio.core.errors import UserError
from sslstudio.core.io import kind_of_file
from sslstudio.core.progress import Progress

MODALITIES = ("image", "audio", "text")

EXTENSIONS = {
    "image": (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"),
    "audio": (".wav", ".flac", ".ogg"),
    "text": (".txt", ".md", ".jsonl", ".csv"),
}
MODALITY_OF_SUFFIX = {ext: m for m, exts in EXTENSIONS.items() for ext in exts}


@dataclass(frozen=True)
class BadFile:
    """A file that was skipped, and why, in words a user can act on."""

    path: str
    reason: str


@dataclass
class ScanResult:
    """Files found under `root`, grouped by modality; paths are relative to root."""

    root: Path
    files: dict[str, list[str]] = field(default_factory=lambda: {m: [] for m in MODALITIES})
    bad: list[BadFile] = field(default_factory=list)
    ignored: int = 0

    def counts(self) -> dict[str, int]:
        return {m: len(paths) for m, paths in self.files.items() if paths}

    def choose_modality(self, wanted: str | None = None) -> str:
        """The modality to work on: `wanted`, or the only one present."""
        counts = self.counts()
        if wanted is not None:
            if wanted not in MODALITIES:
                raise UserError(f"unknown modality {wanted!r}; choose one of {', '.join(MODALITIES)}")
            if not counts.get(wanted):
                raise UserError(f"no usable {wanted} files in {self.root} (found: {_describe(counts)})"
                                + self._skipped())
            return wanted
        if not counts:
            raise UserError(f"{self.root} holds no image, audio or text files" + self._skipped())
        if len(counts) > 1:
            raise UserError(
                f"{self.root} mixes modalities ({_describe(counts)}); pick one with --modality"
            )
        return next(iter(counts))

    def _skipped(self) -> str:
        """The first few files skipped, with their reasons, for an error that would otherwise say "nothing"."""
        return ("; skipped " + "; ".join(f"{b.path}: {b.reason}" for b in self.bad[:3])) if self.bad else ""

    def main_modality(self) -> str | None:
        """The modality with the most files (the first of MODALITIES on a tie), or None for no data files."""
        counts = self.counts()
        return max(counts, key=counts.get) if counts else None

    def labels_of(self, modality: str) -> list[str | None]:
        """Label of each file from its first-level subfolder; None for files at the top."""
        return [label_from_relpath(p) for p in self.files[modality]]

    def looks_labelled(self, modality: str) -> bool:
        """True when every file sits in a first-level class folder and there are two or more."""
        labels = self.labels_of(modality)
        return bool(labels) and None not in labels and len(set(labels)) >= 2


def label_from_relpath(relpath: str) -> str | None:
    head, sep, _ = relpath.partition("/")
    return head if sep else None


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {m}" for m, n in counts.items()) or "nothing usable"


def scan_folder(root: str | os.PathLike, progress: Progress | None = None) -> ScanResult:
    """List every data file under `root` without reading any of them.

    `progress`, if given, is called after each folder with the number of data files found so far (and a
    total of 0: unknown); it raises `Cancelled` to stop the scan.
    """
    root = Path(root)
    if not root.exists():
        raise UserError(f"folder not found: {root}")
    if not root.is_dir():
        raise UserError(f"not a folder: {root}")
    result = ScanResult(root=root)
    seen_dirs: set[tuple[int, int]] = set()
    stack = [(os.fspath(root), "")]
    while stack:
        path, rel = stack.pop()
        try:
            st = os.stat(path)
        except OSError as exc:
            result.bad.append(BadFile(rel or ".", f"cannot open folder: {exc.strerror}"))
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:
            continue  # a symlink cycle or a second link to a folder already scanned
        seen_dirs.add((st.st_dev, st.st_ino))
        try:
            entries = list(os.scandir(path))
        except OSError as exc:
            result.bad.append(BadFile(rel or ".", f"cannot list folder: {exc.strerror}"))
            continue
        _scan_entries(entries, rel, result, stack)
        if progress is not None:
            progress(sum(len(p) for p in result.files.values()), 0)
    for paths in result.files.values():
        paths.sort()
    result.bad.sort(key=lambda b: b.path)
    return result


def _scan_entries(entries, rel: str, result: ScanResult, stack: list) -> None:
    files = result.files
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue  # hidden files and folders: .git, .DS_Store, our own caches
        relpath = f"{rel}/{name}" if rel else name
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError as exc:
            result.bad.append(BadFile(relpath, f"cannot inspect: {exc.strerror}"))
            continue
        if is_dir:
            stack.append((entry.path, relpath))
            continue
        modality = MODALITY_OF_SUFFIX.get(os.path.splitext(name)[1].lower())
        if modality is None:
            result.ignored += 1
        elif is_file:
            if _is_empty(entry):
                result.bad.append(BadFile(relpath, "empty file"))
            else:
                files[modality].append(relpath)
        else:
            result.bad.append(BadFile(relpath, _not_a_file(entry)))


def _is_empty(entry: os.DirEntry) -> bool:
    try:
        return entry.stat().st_size == 0
    except OSError:
        return False  # gone or unreadable since it was listed: decoding says why, with its reason


def _not_a_file(entry: os.DirEntry) -> str:
    """Why an entry that looks like a data file is not one, from what it is (or what a link points at)."""
    try:
        mode = os.stat(entry.path).st_mode  # follows a link
    except FileNotFoundError:
        return "broken symbolic link: its target does not exist"
    except OSError as exc:
        return f"cannot inspect: {exc.strerror}"
    kind = kind_of_file(mode)
    return f"symbolic link to {kind}, not a regular file" if entry.is_symlink() else f"not a regular file ({kind})"


def summarise(scan: ScanResult) -> dict:
    """A JSON-ready summary: counts per modality, labels per modality, bad files."""
    labels = {}
    for modality in scan.counts():
        if scan.looks_labelled(modality):
            labels[modality] = dict(sorted(Counter(scan.labels_of(modality)).items()))
    return {
        "folder": str(scan.root),
        "counts": scan.counts(),
        "labels": labels,
        "ignored_files": scan.ignored,
        "bad_files": [{"path": b.path, "reason": b.reason} for b in scan.bad],
    }

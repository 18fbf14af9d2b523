"""Labelled subsets: a class-folder tree or a `path,label[,split]` CSV, and seeded splits."""
from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sslstudio.core.data.dataset import SampleSet, load_files, load_folder
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.data.scan import MODALITY_OF_SUFFIX, BadFile
from sslstudio.core.errors import UserError
from sslstudio.core.progress import Progress


def load_labelled(source: str | os.PathLike, modality: str | None, spec: InputSpec,
                  progress: Progress | None = None) -> SampleSet:
    """Labelled samples from FOLDER/<class>/<files> or from a CSV with path,label[,split]; `progress` follows
    the decoding."""
    source = Path(source)
    if source.suffix.lower() == ".csv" and source.exists() and not source.is_dir():
        return _load_csv(source, modality, spec, progress)
    samples = load_folder(source, modality, labels="folders", spec=spec, progress=progress)
    if not samples.has_labels:
        raise UserError(f"{source} has no class subfolders; expected FOLDER/<class>/<files> or a CSV")
    keep = [i for i, label in enumerate(samples.labels) if label is not None]
    return samples.subset(keep) if len(keep) < len(samples) else samples


NAMED_ROWS = 20  # rows reported one by one (a missing file, a conflicting label); the rest are counted
SHOWN_UNLABELLED = 3  # rows without a label named in the line that counts them
NOT_FOUND = "listed in the label CSV, but not found (or not a regular file)"


@dataclass
class _Listing:
    """What a label CSV's rows name: the files to load, with their labels and splits, and the rows left out."""

    files: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    splits: list[str | None] = field(default_factory=list)
    bad: list[BadFile] = field(default_factory=list)
    notes: list[BadFile] = field(default_factory=list)


def _load_csv(path: Path, modality: str | None, spec: InputSpec, progress: Progress | None = None) -> SampleSet:
    listing = _read_listing(path, _read_rows(path))
    files = listing.files
    modality = modality or _modality_of(files, path)
    files_of_modality = [i for i, f in enumerate(files) if MODALITY_OF_SUFFIX.get(Path(f).suffix.lower()) == modality]
    has_split = any(listing.splits[i] for i in files_of_modality)
    samples = load_files(path.parent, [files[i] for i in files_of_modality], modality, spec,
                         [listing.labels[i] for i in files_of_modality],
                         [listing.splits[i] for i in files_of_modality] if has_split else None, progress=progress)
    samples.bad = listing.bad + samples.bad
    samples.notes = listing.notes + samples.notes
    return samples


def _read_rows(path: Path) -> list[tuple[int, dict]]:
    """The CSV's rows, each with the line it ends on (the header is line 1, as a spreadsheet numbers rows)."""
    from sslstudio.core.data.loaders import Unusable, open_regular

    try:
        with open_regular(str(path)) as raw, open(raw.fileno(), newline="", encoding="utf-8-sig", closefd=False) as f:
            reader = csv.DictReader(f)
            rows = [(reader.line_num, row) for row in reader]
    except Unusable as exc:
        raise UserError(f"cannot read label CSV {path}: {exc}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"cannot read label CSV {path}: {exc}") from None
    if not rows or not {"path", "label"} <= set(rows[0][1]):
        raise UserError(f"{path} must have a header with path,label[,split] columns")
    return rows


def _read_listing(path: Path, rows: list[tuple[int, dict]]) -> _Listing:
    """Each file once, with its first label: a file in training and test at once inflates the score. A file is
    known by its normalised absolute path, so `a/../b/x.png`, `./b/x.png` and `/abs/b/x.png` are one file."""
    listing, folder = _Listing(), os.path.abspath(path.parent)
    first_label: dict[str, str] = {}
    duplicates, conflicts, unlabelled, missing, unlabelled_shown = 0, 0, 0, [], []
    split_values: Counter[str] = Counter()
    for line, row in rows:
        file_path = (row.get("path") or "").strip()
        label = (row.get("label") or "").strip()
        if not file_path or not label:
            if (unlabelled := unlabelled + 1) <= SHOWN_UNLABELLED:
                unlabelled_shown.append(f"line {line} ({file_path or 'no path'})")
            continue
        key = os.path.normcase(os.path.normpath(os.path.join(folder, file_path)))
        if key in first_label:
            if first_label[key] == label:
                duplicates += 1
            elif (conflicts := conflicts + 1) <= NAMED_ROWS:
                listing.bad.append(BadFile(file_path, f"line {line} gives it the label {label!r}, an earlier row "
                                                      f"{first_label[key]!r}; the row is skipped"))
            continue
        first_label[key] = label
        if not os.path.isfile(path.parent / file_path):  # checked here: a million missing rows cost seconds
            missing.append(file_path)
            continue
        listing.files.append(file_path)
        listing.labels.append(label)
        split = (row.get("split") or "").strip()
        listing.splits.append(split.lower() or None)
        split_values[split] += 1
    if not listing.files and not missing:
        raise UserError(f"{path} has no row with both a path and a label")
    if not listing.files:
        raise UserError(f"{path} names no file that exists (for example {missing[0]})")
    not_found = [BadFile(f, NOT_FOUND) for f in missing[:NAMED_ROWS]]
    listing.bad = (_counted(listing.bad, conflicts, path, "more rows give a file listed above another label")
                   + _counted(not_found, len(missing), path, "more rows name files that are not found"))
    if unlabelled:
        shown = ", ".join(unlabelled_shown) + (", ..." if unlabelled > SHOWN_UNLABELLED else "")
        said = BadFile(path.name, f"{unlabelled} rows have no label or no path and are left out: {shown}")
        listing.bad.insert(0, said)  # first: the one line for many rows is never cut off by the list's length
    listing.notes += _unknown_splits(path, split_values)
    if duplicates:
        listing.notes.append(BadFile(path.name, f"{duplicates} rows repeat a file listed above with the same "
                                                f"label; each file is used once"))
    return listing


def _unknown_splits(path: Path, values: Counter[str]) -> list[BadFile]:
    """A note naming the split column's values that are neither train nor test (rows no probe uses)."""
    unknown = [(value, n) for value, n in values.most_common() if value.lower() not in ("train", "test")]
    if not unknown or set(values) == {""}:  # a split column left empty: no split
        return []
    said = [f"{value!r} in {n} rows" if value else f"an empty cell in {n} rows" for value, n in unknown[:5]]
    if len(unknown) > 5:
        said[-1] = f"{len(unknown) - 4} other values in {sum(n for _, n in unknown[4:])} rows"
    text = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    verb = "is" if len(said) == 1 else "are"
    return [BadFile(path.name, f"split column: {text} {verb} neither train nor test; those rows are neither "
                               f"trained on nor tested")]


def _counted(entries: list[BadFile], total: int, path: Path, rest: str) -> list[BadFile]:
    """The first NAMED_ROWS of `total` entries one by one, then one line counting the others."""
    if total <= NAMED_ROWS:
        return entries
    return entries[:NAMED_ROWS] + [BadFile(path.name, f"{total - NAMED_ROWS} {rest}")]


def _modality_of(files: Sequence[str], csv_path: Path) -> str:
    found = {MODALITY_OF_SUFFIX.get(Path(f).suffix.lower()) for f in files} - {None}
    if len(found) != 1:
        raise UserError(f"{csv_path} lists {len(found)} modalities; pick one with --modality")
    return found.pop()


def few_shot_split(labels: Sequence[str], per_class: int, seed: int, splits: Sequence[str | None] | None = None,
                   groups: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Train indices: `per_class` per class drawn with `seed`; test: the rest.

    With a split column, training draws only from 'train' rows and tests on 'test' rows. With `groups`,
    samples of a group that has a training sample (other segments of the same recording) are not tested.
    """
    labels = np.asarray(labels)
    if splits is not None and any(splits):
        pool = np.array([s == "train" for s in splits])
        test = np.flatnonzero(np.array([s == "test" for s in splits]))
    else:
        pool = np.ones(len(labels), dtype=bool)
        test = None
    rng = np.random.default_rng(seed)
    train = []
    for cls in sorted(set(labels.tolist())):
        members = np.flatnonzero((labels == cls) & pool)
        if len(members) == 0:
            continue
        take = members if per_class <= 0 else rng.permutation(members)[:per_class]
        train.extend(sorted(take.tolist()))
    train = np.array(sorted(train), dtype=np.int64)
    if test is None:
        test = np.setdiff1d(np.arange(len(labels)), train)
        if groups is not None:
            groups = np.asarray(groups)
            test = test[~np.isin(groups[test], groups[train])]
    if len(train) == 0 or len(test) == 0:
        marked = (f" (the split column marks {int(pool.sum())} of {len(labels)} rows train and {len(test)} test)"
                  if splits is not None and any(splits) else "")
        raise UserError(f"not enough labelled samples for {per_class} per class plus a test set{marked}")
    return train, test


def merged_labels(samples: SampleSet, app_labels: dict[str, str]) -> np.ndarray:
    """Every sample's class: a label made in the app wins over the folder's or CSV's; "" when none."""
    return np.array([app_labels.get(sample_id, label or "") for sample_id, label in zip(samples.ids, samples.labels,
                                                                                          strict=True)], dtype=str)

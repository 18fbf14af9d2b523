"""Labelled subsets: a class-folder tree or a `path,label[,split]` CSV, and seeded splits."""
from __future__ import annotations

import csv
import os
from collections.abc import Sequence
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


NAMED_MISSING = 20  # rows naming a missing file that are reported one by one; the rest are counted


def _load_csv(path: Path, modality: str | None, spec: InputSpec, progress: Progress | None = None) -> SampleSet:
    from sslstudio.core.data.loaders import Unusable, open_regular

    try:
        with open_regular(str(path)) as raw, open(raw.fileno(), newline="", encoding="utf-8-sig", closefd=False) as f:
            rows = list(csv.DictReader(f))
    except Unusable as exc:
        raise UserError(f"cannot read label CSV {path}: {exc}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"cannot read label CSV {path}: {exc}") from None
    if not rows or not {"path", "label"} <= set(rows[0]):
        raise UserError(f"{path} must have a header with path,label[,split] columns")
    files, labels, splits, first_label = [], [], [], {}
    repeated, conflicting, missing = 0, 0, []
    for row in rows:
        file_path = (row.get("path") or "").strip()
        label = (row.get("label") or "").strip()
        if not file_path or not label:
            continue
        if file_path in first_label:  # the same file twice would sit in training and test at once
            repeated += 1
            conflicting += first_label[file_path] != label
            continue
        first_label[file_path] = label
        if not os.path.isfile(path.parent / file_path):  # checked here: a million missing rows cost seconds
            missing.append(file_path)
            continue
        files.append(file_path)
        labels.append(label)
        split = (row.get("split") or "").strip().lower() or None
        splits.append(split)
    missing_files = [BadFile(f, "listed in the label CSV, but not found (or not a regular file)")
                     for f in missing[:NAMED_MISSING]]
    if len(missing) > NAMED_MISSING:
        missing_files.append(BadFile(path.name, f"{len(missing) - NAMED_MISSING} more rows name files that are "
                                                f"not found"))
    repeats = [BadFile(path.name, f"{repeated} rows repeat a file listed above ({conflicting} with another "
                                  f"label); each file is used once, with its first label")] if repeated else []
    if not files:
        raise UserError(f"{path} names no file that exists" + (f" (for example {missing[0]})" if missing else ""))
    modality = modality or _modality_of(files, path)
    files_of_modality = [i for i, f in enumerate(files) if MODALITY_OF_SUFFIX.get(Path(f).suffix.lower()) == modality]
    has_split = any(splits[i] for i in files_of_modality)
    samples = load_files(path.parent, [files[i] for i in files_of_modality], modality, spec,
                         [labels[i] for i in files_of_modality],
                         [splits[i] for i in files_of_modality] if has_split else None, progress=progress)
    samples.bad = missing_files + samples.bad
    samples.notes = repeats + samples.notes
    return samples


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
        raise UserError(f"not enough labelled samples for {per_class} per class plus a test set")
    return train, test


def merged_labels(samples: SampleSet, app_labels: dict[str, str]) -> np.ndarray:
    """Every sample's class: a label made in the app wins over the folder's or CSV's; "" when none."""
    return np.array([app_labels.get(sample_id, label or "") for sample_id, label in zip(samples.ids, samples.labels,
                                                                                          strict=True)], dtype=str)

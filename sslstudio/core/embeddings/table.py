"""Embeddings out to the tools people use, one row per sample.

- npz (numpy): `embeddings` (N, D) float32, `paths` (the ids: paths inside the folder), `files` (absolute
  paths), `labels` when every sample has one, `coords` (N, 2) when a map was made.
- csv (any spreadsheet, Spotfire, pandas): columns id, filepath, label, x, y, then e0 .. e{D-1}.
- parquet (pandas, FiftyOne, Embedding Atlas, Spotfire): id, filepath, label, x, y and `embedding`, a list of D
  float32 per row (what FiftyOne's `compute_visualization(points=...)` and Embedding Atlas read as vectors).

`filepath` is FiftyOne's name for a sample's file; x and y are the 2-D map's coordinates (absent without a map).
Every file is written atomically: a reader never sees half a table.

CSV and Parquet hold UTF-8 text only, and a file name may be any bytes (Linux): in those two formats a byte of a
name or label that is not UTF-8 is written as a `\\xff` escape (`bad\\xffname.png`), so every reader opens the
table, and the npz keeps the name itself (`os.fsencode` of it gives the file's bytes back).

A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula, so in the CSV a
text cell (id, filepath, label) that starts so gets a leading single quote (`'=HYPERLINK(...).png`), as OWASP
advises against CSV injection; numbers are left as they are, and npz and Parquet hold the names unchanged.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from sslstudio.core.data.sample_ids import file_of
from sslstudio.core.errors import UserError
from sslstudio.core.io import atomic_write

EMBEDDING_FORMATS = ("npz", "csv", "parquet")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula


def format_for(path: str | Path, chosen: str | None = None) -> str:
    """The format asked for, else the one the file name's suffix says (npz when it says none)."""
    if chosen is not None:
        if chosen not in EMBEDDING_FORMATS:
            raise UserError(f"unknown embeddings format {chosen!r}; choose one of {', '.join(EMBEDDING_FORMATS)}")
        return chosen
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in EMBEDDING_FORMATS else "npz"


def write_embeddings(path: str | Path, vectors: np.ndarray, ids: list[str], folder: str | Path,
                     labels: list[str | None] | None = None, coords: np.ndarray | None = None,
                     fmt: str | None = None) -> str:
    """Write the table in `fmt` (default: from the suffix); returns the format written."""
    fmt = format_for(path, fmt)
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(ids) != len(vectors) or (coords is not None and len(coords) != len(vectors)):
        raise ValueError("one id, and one map point, per embedding")
    files = [str(Path(folder).resolve() / file_of(sample_id)) for sample_id in ids]  # a segment's or line's file
    labels = [label or "" for label in labels] if labels is not None else None
    if fmt == "npz":
        _write_npz(path, vectors, ids, files, labels, coords)
        return fmt
    ids, files = [_utf8(text) for text in ids], [_utf8(text) for text in files]
    labels = [_utf8(label) for label in labels] if labels is not None else None
    if fmt == "csv":
        _write_csv(path, vectors, ids, files, labels, coords)
    else:
        _write_parquet(path, vectors, ids, files, labels, coords)
    return fmt


def _utf8(text: str) -> str:
    """`text` as valid UTF-8: the bytes of a file name that are not UTF-8 (held as surrogates) become `\\xff`."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that was never a byte (from a Windows name)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _write_npz(path, vectors, ids, files, labels, coords) -> None:
    arrays = {"embeddings": vectors, "paths": np.array(ids, dtype=str), "files": np.array(files, dtype=str)}
    if labels is not None and all(labels):
        arrays["labels"] = np.array(labels, dtype=str)
    if coords is not None:
        arrays["coords"] = np.asarray(coords, dtype=np.float32)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def _write_csv(path, vectors, ids, files, labels, coords) -> None:
    header = ["id", "filepath", "label"] + (["x", "y"] if coords is not None else [])
    header += [f"e{j}" for j in range(vectors.shape[1])]

    def write(binary) -> None:
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        rows = csv.writer(text)
        rows.writerow(header)
        for i, sample_id in enumerate(ids):
            point = [f"{coords[i, 0]:.6g}", f"{coords[i, 1]:.6g}"] if coords is not None else []
            label = labels[i] if labels is not None else ""
            rows.writerow([_inert(sample_id), _inert(files[i]), _inert(label), *point,
                           *(f"{value:.7g}" for value in vectors[i])])
        text.flush()
        text.detach()

    atomic_write(path, write)


def _inert(text: str) -> str:
    """A CSV text cell a spreadsheet shows as text: a leading quote where it would be read as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _write_parquet(path, vectors, ids, files, labels, coords) -> None:
    try:
        import pyarrow as pa  # optional: pip install 'sslstudio[parquet]'
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError("writing Parquet needs pyarrow: pip install 'sslstudio[parquet]' (or choose npz or "
                        "csv)") from None
    columns = {"id": pa.array(ids, pa.string()), "filepath": pa.array(files, pa.string()),
               "label": pa.array(labels if labels is not None else [""] * len(ids), pa.string())}
    if coords is not None:
        columns["x"] = pa.array(np.asarray(coords[:, 0], dtype=np.float32))
        columns["y"] = pa.array(np.asarray(coords[:, 1], dtype=np.float32))
    columns["embedding"] = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1])
    table = pa.table(columns)
    atomic_write(path, lambda f: pq.write_table(table, f))

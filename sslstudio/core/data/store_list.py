"""The sample stores on this machine: what `sslstudio store list` shows and `store clear` frees."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sslstudio.core.data.store import INDEX, LOCK, META, store_root
from sslstudio.core.data.store_health import is_damage
from sslstudio.core.data.store_tokens import TOKENS_LOCK
from sslstudio.core.io import try_lock, unlock


@dataclass
class StoreInfo:
    path: Path
    folder: str
    modality: str
    settings: dict
    files: int
    samples: int
    bytes: int
    reclaimable: int  # bytes of records whose files were removed or changed
    last_written: float
    damaged: str | None = None  # why its index cannot be read: the next command on its folder rebuilds it


def list_stores(root: Path | None = None) -> list[StoreInfo]:
    root = root or store_root()
    found = (_info(path) for path in (sorted(root.iterdir()) if root.is_dir() else []))
    return [info for info in found if info is not None]


def _info(path: Path) -> StoreInfo | None:
    """What one store holds; a store with a damaged index is listed too (so that `store clear` finds it)."""
    try:
        meta = json.loads((path / META).read_text())
        try:
            (files, samples, dead), damaged = _counts(path), None
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            (files, samples, dead), damaged = (0, 0, 0), str(exc)
        stats = [p.stat() for p in path.iterdir() if p.is_file()]
        return StoreInfo(path, meta["folder"], meta["modality"], meta["settings"], files, samples,
                         sum(st.st_size for st in stats), dead, max(st.st_mtime for st in stats), damaged)
    except (OSError, ValueError, TypeError, sqlite3.Error):
        return None  # not a store, or one being created or cleared


def _counts(path: Path) -> tuple[int, int, int]:
    """(files, samples, dead bytes) of one store, read from its index."""
    db = sqlite3.connect(f"{(path / INDEX).absolute().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        files = db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        samples = db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        dead = db.execute("SELECT value FROM state WHERE key = 'dead_bytes'").fetchone()[0]
    finally:
        db.close()
    return files, samples, dead


def clear_stores(root: Path | None = None, folder: str | None = None) -> tuple[list[StoreInfo], list[StoreInfo]]:
    """Delete the stores (of one folder, or all); returns (removed, in use and kept)."""
    removed, busy = [], []
    wanted = os.fsdecode(Path(folder).resolve()) if folder else None
    for info in list_stores(root):
        if wanted is not None and info.folder != wanted:
            continue
        # A job decoding into the store holds one lock, a job writing token ids the other.
        with open(info.path / LOCK, "a+b") as records, open(info.path / TOKENS_LOCK, "a+b") as tokens:
            if not try_lock(records):
                busy.append(info)
                continue
            try:
                if not try_lock(tokens):
                    busy.append(info)
                    continue
                try:
                    shutil.rmtree(info.path)
                finally:
                    unlock(tokens)
            finally:
                unlock(records)
        removed.append(info)
    return removed, busy

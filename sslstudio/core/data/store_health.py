"""What goes wrong with a sample store on disk, in words: a damaged index, a damaged record, a store that may
not be written, and the command that clears one store."""
from __future__ import annotations

import errno
import os
import shlex
import sqlite3
import zlib
from pathlib import Path

from sslstudio.core.errors import UserError
from sslstudio.core.progress import Progress


class IndexDamaged(UserError):
    """The store's index cannot be read (a disk fault or a stray write over it): rebuilt, or cleared by hand."""

    def __init__(self, folder: Path, reason: str):
        super().__init__(f"the sample store of {folder} is damaged ({reason}); run the command again to rebuild "
                         f"it, or remove it with `{clear_command(folder)}`")
        self.folder, self.reason = folder, reason


def is_damage(exc: sqlite3.Error) -> bool:
    """SQLite's own word for a damaged file ("database disk image is malformed", "file is not a database"); a
    full disk, a lock or a read-only file are OperationalErrors instead."""
    return type(exc) is sqlite3.DatabaseError


def clear_command(folder: str | os.PathLike) -> str:
    return f"sslstudio store clear {shlex.quote(os.fsdecode(folder))}"


def is_denied(exc: OSError | sqlite3.Error) -> bool:
    """Whether writing failed because the store may not be written (rather than for want of space)."""
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_READONLY
    return isinstance(exc, PermissionError) or exc.errno == errno.EROFS


def damaged_files(data_path: Path, records: list[tuple[bytes, int, int, int]],
                  progress: Progress | None = None) -> set[bytes]:
    """The files whose records (path, offset, size, CRC-32), read from `data_path`, do not match their checksum."""
    damaged = set()
    with open(data_path, "rb") as data:
        for i, (path, offset, nbytes, crc) in enumerate(records):
            data.seek(offset)
            if zlib.crc32(data.read(nbytes)) != crc:
                damaged.add(path)
            if progress is not None and i % 256 == 0:
                progress(0, 0)  # lets the caller cancel
    return damaged

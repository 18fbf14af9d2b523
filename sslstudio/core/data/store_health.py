"""What goes wrong with a sample store on disk, in words, and its repairs: a damaged index (rebuilt), a damaged
record (the next sync checks them all), a data file cut short (its lost files decoded again), a store that may
not be written, and the command that clears one store."""
from __future__ import annotations

import contextlib
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


class Repairs:
    """The repairs of `SampleStore` (which gives `path`, `folder`, `notes`, `data_path`, `index_path`, `_connect`,
    `_write_schema` and `_forget`)."""

    def _rebuild(self, damage: IndexDamaged) -> None:
        """With the write lock held: start the store anew (its records cannot be found without the index)."""
        try:
            for path in (self.index_path, Path(f"{self.index_path}-journal"), self.data_path,
                         *self.path.glob("tokens-*.bin")):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()  # readers keep the old files they opened
            self._write_schema()
        except (OSError, sqlite3.OperationalError) as exc:
            raise self._unrebuildable(damage, getattr(exc, "strerror", None) or str(exc)) from None
        self.notes.append(f"its index was damaged ({damage.reason}); it was rebuilt, so every file is decoded again")

    def _unrebuildable(self, damage: IndexDamaged, reason: str) -> UserError:
        return UserError(f"the sample store of {self.folder} is damaged ({damage.reason}) and cannot be rebuilt "
                         f"here ({reason}): remove it with `{clear_command(self.folder)}`")

    def _intact(self) -> bool:
        try:
            with self._connect(read_only=True) as db:
                return db.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        except IndexDamaged:
            return False

    def record_damaged(self, offset: int) -> UserError:
        """The error for a record that does not match its checksum; the next sync checks every record."""
        with self._connect() as db:
            found = db.execute("SELECT path FROM records WHERE offset = ?", (offset,)).fetchone()
        what = f"the stored sample of {os.fsdecode(found[0])}" if found else f"the record at byte {offset}"
        try:
            with self._connect() as db:
                db.execute("INSERT OR REPLACE INTO state VALUES ('check_records', 1)")
        except sqlite3.OperationalError:  # a read-only store
            return UserError(f"the sample store of {self.folder} is damaged: {what} does not match its checksum; "
                             f"remove the store with `{clear_command(self.folder)}`")
        return UserError(f"the sample store of {self.folder} is damaged: {what} does not match its checksum; "
                         f"run the command again: it checks every stored sample and decodes the damaged files anew")

    def _damaged_files(self, progress: Progress | None) -> set[bytes]:
        """With the write lock held, after a reader found a damaged record: the files whose records are damaged."""
        with self._connect() as db:
            if db.execute("SELECT value FROM state WHERE key = 'check_records'").fetchone() != (1,):
                return set()
            records = db.execute("SELECT path, offset, nbytes, crc FROM records ORDER BY offset").fetchall()
        damaged = set()
        with open(self.data_path, "rb") as data:
            for i, (path, offset, nbytes, crc) in enumerate(records):
                data.seek(offset)
                if zlib.crc32(data.read(nbytes)) != crc:
                    damaged.add(path)
                if progress is not None and i % 256 == 0:
                    progress(0, 0)  # lets the caller cancel
        with self._connect() as db:
            db.execute("DELETE FROM state WHERE key = 'check_records'")
        return damaged

    def _forget_lost_tail(self, size: int, end: int) -> None:
        """The data file lost its end (a copy or a full disk cut it short): the files whose records lay there
        are decoded again."""
        with self._connect() as db:
            lost = {path for (path,) in db.execute("SELECT path FROM records WHERE offset + nbytes > ?", (size,))}
        self._forget(lost)
        with self._connect() as db:  # bytes that are gone are not reclaimable
            db.execute("UPDATE state SET value = max(0, value - ?) WHERE key = 'dead_bytes'", (end - size,))
            db.execute("UPDATE state SET value = ? WHERE key = 'committed_end'", (size,))
        self.notes.append(f"its data file was cut short ({size} of {end} bytes): {len(lost)} files are decoded again")

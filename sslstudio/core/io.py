"""Atomic file writes: a temp file in the same folder, fsync, then rename over the target.

A crash or a full disk mid-write leaves the previous file intact, never half of one.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

_UMASK = os.umask(0o022)  # read once at import, while single-threaded: umask is process-wide
os.umask(_UMASK)


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    path = Path(path)
    if path.is_dir():  # checked first: the rename would fail after all the writing, naming the temp file
        raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file name", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def check_writable(path: str | os.PathLike, show: Callable[[str], str] = str) -> None:
    """Fail before any work when no file can be written at `path`: a folder is there (or the name ends with a
    slash), or its folder cannot be made or written (a missing folder is made here). `show` writes a path as
    the message names it."""
    from sslstudio.core.errors import UserError

    parent = Path(path).parent
    if Path(path).is_dir() or str(path).endswith(("/", os.sep)):
        raise UserError(f"cannot write {show(str(path))}: it is a folder, not a file name")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot write {show(str(path))}: {exc.strerror or exc} ({show(str(parent))})") from None
    if not os.access(parent, os.W_OK):
        raise UserError(f"cannot write {show(str(path))}: its folder is not writable")


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


STALE_SECONDS = 24 * 3600  # a job's working file untouched this long was left by a job that was killed


def remove_stale(folder: Path, pattern: str) -> None:
    """Delete working files matching `pattern` in `folder` that no job has touched for a day: each job
    names its own (two may run at once), so a killed job's would otherwise stay for good."""
    import time

    cutoff = time.time() - STALE_SECONDS
    for stale in folder.glob(pattern):
        try:
            if stale.stat().st_mtime < cutoff:
                stale.unlink()
        except OSError:
            continue


def kind_of_file(mode: int) -> str:
    """What a file that is not a regular one is, from its st_mode, in words ("a pipe", "a device")."""
    for test, name in ((stat.S_ISFIFO, "a pipe"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "something else"


# Advisory locks on an open file: one holder at a time, released when the holder exits, even by kill -9.
try:
    import fcntl

    def try_lock(handle) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def unlock(handle) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
except ImportError:  # Windows
    import msvcrt

    def try_lock(handle) -> bool:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def unlock(handle) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

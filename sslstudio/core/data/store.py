"""The sample store: every file of a folder decoded once, kept on disk, read by every command.

One store per (folder, modality, the input settings that change what is stored). It lives in the
platform's cache folder (`platformdirs`), or under `--store DIR` / `SSLSTUDIO_STORE`, and holds:

- `samples.bin`: the records back to back (see `records.py`), appended to, read with `pread`;
- `index.sqlite`: one row per file (its size, mtime, ctime and inode when decoded, or why it is unusable) and one
  per record (where its bytes lie, and their CRC-32); for text, where each record's token ids lie per tokenizer;
- `tokens-<tokenizer>.bin`: those token ids (uint16);
- `meta.json`: the folder, modality and settings, for `sslstudio store list`.

Writing is one process at a time (a lock file for the records, another for token ids); reading
needs no lock. A sync decodes only files that are new or changed since they were stored (size, mtime,
ctime or inode: `cp -p`, `rsync -a` and `tar x` keep the first two of a rewritten file), and forgets
removed ones, so a folder that changes is updated without a rebuild. Records are only ever appended,
and are flushed and fsynced before the index rows that point at them are committed, about once a
second: a killed build keeps what it committed, the next sync cuts the bytes past the last commit and
carries on, and a record's offset never changes while it is stored, so a reader's offsets stay valid.
The bytes of forgotten records stay until the store is
cleared (`store list` shows how much that would free).

A reader checks each record against its checksum the first time it reads it (`Records`); a record that
does not match marks the store for a full check, which the next sync makes, decoding the damaged files
again. A store of an older format is removed when its folder is next used, and the folder decoded anew.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sslstudio.core.data.loaders import InputSpec, Unusable
from sslstudio.core.data.records import decode_all, record_settings
from sslstudio.core.data.store_health import IndexDamaged, Repairs, is_damage, is_denied
from sslstudio.core.data.store_tokens import TokenTables
from sslstudio.core.data.survey import describe_bytes
from sslstudio.core.errors import UserError
from sslstudio.core.io import atomic_write_text, try_lock, unlock
from sslstudio.core.progress import Progress

STORE_VERSION = 6  # 2: images channels last; 3: the centre square cut before resizing; 4: the note column (a
# table's skipped lines), which a store made between the two commits of format 3 lacks; 5: a checksum per record;
# 6: each file's ctime and inode
DATA, INDEX, META, LOCK = "samples.bin", "index.sqlite", "meta.json", "write.lock"
COMMIT_SECONDS = 1.0

_configured_root: Path | None = None


def configure(root: str | os.PathLike | None) -> None:
    """Where stores live from now on (the CLI's --store); None: the environment or the platform default."""
    global _configured_root
    _configured_root = Path(root) if root else None


def store_root() -> Path:
    if _configured_root is not None:
        return _configured_root
    if os.environ.get("SSLSTUDIO_STORE"):
        return Path(os.environ["SSLSTUDIO_STORE"])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("sslstudio", appauthor=False)) / "stores"


def _key(folder: Path, modality: str, settings: dict) -> str:
    described = json.dumps({"folder": os.fsdecode(folder), "modality": modality, "settings": settings,
                            "version": STORE_VERSION}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha1(described.encode("ascii", "backslashreplace")).hexdigest()[:16]


@dataclass
class FileEntry:
    """What the store knows of one file: why it is unusable, or its records (id suffix, offset, size, CRC-32)
    and a note of what in it was left out (a table's broken lines)."""

    reason: str | None
    records: list[tuple[str, int, int, int]]
    note: str | None = None


class SampleStore(TokenTables, Repairs):
    def __init__(self, path: Path, folder: Path, modality: str, spec: InputSpec):
        self.path, self.folder, self.modality, self.spec = path, folder, modality, spec
        self.settings = record_settings(modality, spec)
        self.notes: list[str] = []  # what the user should know of this store (it was rebuilt)

    @classmethod
    def for_folder(cls, folder: str | os.PathLike, modality: str, spec: InputSpec,
                   root: Path | None = None) -> SampleStore:
        folder = Path(folder).resolve()
        settings = record_settings(modality, spec)
        name = f"{_safe(folder.name) or 'root'}-{modality}-{_key(folder, modality, settings)}"
        store = cls((root or store_root()) / name, folder, modality, spec)
        store._create()
        return store

    # ------------------------------------------------------------------ files on disk
    def _create(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the sample store in {self.path.parent}: {exc.strerror}; choose "
                            f"another place with --store DIR or SSLSTUDIO_STORE") from None
        damage = None
        try:
            if self._exists():
                return  # opening an existing store writes nothing (every torchrun rank opens it)
        except IndexDamaged as exc:
            damage = exc
        try:
            with self._locked(LOCK, None, wait=True):
                try:
                    if not self._exists():
                        self._write_schema()
                        self._remove_older_formats()
                except IndexDamaged as exc:
                    self._rebuild(exc)
        except OSError as exc:
            if not is_denied(exc):
                raise
            if damage is not None:
                raise self._unrebuildable(damage, exc.strerror) from None
            raise UserError(f"cannot create the sample store in {self.path}: {exc.strerror}; choose another place "
                            f"with --store DIR or SSLSTUDIO_STORE") from None

    def _exists(self) -> bool:
        if not (self.path / META).is_file() or not (self.path / INDEX).is_file():
            return False
        try:
            with self._connect(read_only=True) as db:
                return db.execute("SELECT value FROM state WHERE key = 'committed_end'").fetchone() is not None
        except sqlite3.OperationalError:
            return False  # being created: no table yet

    def _remove_older_formats(self) -> None:
        """Stores of this folder in an older format: nothing reads them any more (unless another job still does)."""
        for path in self.path.parent.glob(f"{self.path.name.rsplit('-', 1)[0]}-*"):
            try:
                meta = json.loads((path / META).read_text())
                if (meta["version"] >= STORE_VERSION or meta["folder"] != os.fsdecode(self.folder)
                        or meta["modality"] != self.modality):
                    continue
                size = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
                with open(path / LOCK, "a+b") as lock:
                    if not try_lock(lock):
                        continue  # an older version of sslstudio is writing it
                    shutil.rmtree(path)
            except (OSError, ValueError, KeyError, TypeError):
                continue
            self.notes.append(f"a store of this folder in an older format ({describe_bytes(size)}) was removed; "
                              f"the folder is decoded anew")

    def _write_schema(self) -> None:
        atomic_write_text(self.path / META, json.dumps({
            "version": STORE_VERSION, "folder": os.fsdecode(self.folder), "modality": self.modality,
            "settings": self.settings, "created": time.time()}, indent=1))
        with self._connect() as db:
            db.executescript("""
                CREATE TABLE IF NOT EXISTS files(path BLOB PRIMARY KEY, size INTEGER, mtime_ns INTEGER,
                                                 ctime_ns INTEGER, inode INTEGER, reason TEXT, note TEXT)
                                                 WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS records(path BLOB, seq INTEGER, suffix TEXT, offset INTEGER,
                                                   nbytes INTEGER, crc INTEGER, PRIMARY KEY(path, seq))
                                                   WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value INTEGER);
                CREATE TABLE IF NOT EXISTS tokens(tokenizer TEXT, offset INTEGER, token_offset INTEGER,
                                                  count INTEGER, PRIMARY KEY(tokenizer, offset)) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS tokens_of_record ON tokens(offset);
                INSERT OR IGNORE INTO state VALUES ('committed_end', 0), ('dead_bytes', 0);
            """)

    @contextlib.contextmanager
    def _connect(self, read_only: bool = False) -> Iterator[sqlite3.Connection]:
        index = self.index_path.absolute()
        db = sqlite3.connect(f"{index.as_uri()}?mode=ro", uri=True, timeout=60) if read_only \
            else sqlite3.connect(index, timeout=60)
        try:
            with db:
                yield db
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            raise IndexDamaged(self.folder, str(exc)) from None
        finally:
            db.close()

    @property
    def data_path(self) -> Path:
        return self.path / DATA

    @property
    def index_path(self) -> Path:
        return self.path / INDEX

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())

    # ------------------------------------------------------------------ reading
    def entries(self, relpaths: Sequence[str]) -> dict[str, FileEntry]:
        """What is stored for each of these files (files not stored are left out)."""
        wanted = {os.fsencode(p): p for p in relpaths}
        found: dict[str, FileEntry] = {}
        with self._connect() as db:
            few = len(wanted) < 2000
            files = (db.execute("SELECT path, reason, note FROM files WHERE path = ?", (k,)).fetchone()
                     for k in wanted) if few else db.execute("SELECT path, reason, note FROM files")
            for row in files:
                if row is not None and row[0] in wanted:
                    found[wanted[row[0]]] = FileEntry(row[1], [], row[2])
            rows = (r for k in wanted for r in db.execute(
                "SELECT path, seq, suffix, offset, nbytes, crc FROM records WHERE path = ? ORDER BY seq", (k,))) \
                if few else db.execute("SELECT path, seq, suffix, offset, nbytes, crc FROM records ORDER BY path, seq")
            for path, _, suffix, offset, nbytes, crc in rows:
                entry = found.get(wanted.get(path))
                if entry is not None:
                    entry.records.append((suffix, offset, nbytes, crc))
        return found

    def is_current(self, relpaths: Sequence[str]) -> bool:
        """True when every file is stored as it is on disk now (nothing to decode)."""
        try:
            stored = self._stored_stats(relpaths if len(relpaths) < 2000 else None)
        except IndexDamaged:
            return False  # the sync rebuilds it
        return all(stored.get(os.fsencode(p)) == _stat(self.folder, p) for p in relpaths)

    def _stored_stats(self, relpaths: Sequence[str] | None = None) -> dict[bytes, tuple[int, int, int, int]]:
        with self._connect() as db:
            if relpaths is None:
                rows = db.execute("SELECT path, size, mtime_ns, ctime_ns, inode FROM files").fetchall()
            else:
                rows = [r for p in relpaths for r in db.execute(
                    "SELECT path, size, mtime_ns, ctime_ns, inode FROM files WHERE path = ?", (os.fsencode(p),))]
        return {path: tuple(stat) for path, *stat in rows}

    # ------------------------------------------------------------------ writing
    def sync(self, relpaths: Sequence[str], threads: int, progress: Progress | None = None,
             prune: bool = False, wait: bool = True, trust_recent: bool = False) -> bool:
        """Decode what is new or changed among `relpaths`; with `prune`, forget files not among them.

        `trust_recent`: a sync of this very file list that ended in the last two minutes stands, and no
        file is looked at again (torchrun ranks after the one that synced, each of which would otherwise
        stat every file of the folder in turn, on a network file system too).
        Returns False without doing anything when another writer holds the store and `wait` is off."""
        relpaths = list(dict.fromkeys(relpaths))
        try:
            try:
                return self._sync(relpaths, threads, progress, prune, wait, trust_recent)
            except IndexDamaged as exc:
                with self._locked(LOCK, progress, wait=True):
                    if not self._intact():  # unless another job rebuilt it meanwhile
                        self._rebuild(exc)
                return self._sync(relpaths, threads, progress, prune, wait, trust_recent)
        except (OSError, sqlite3.OperationalError) as exc:  # a full disk, a read-only or vanished folder
            reason = getattr(exc, "strerror", None) or str(exc)
            if not is_denied(exc):
                raise UserError(f"the sample store in {self.path} could not be written ({reason}); what was "
                                f"decoded before is kept. Free some space, or keep stores elsewhere with --store "
                                f"DIR or SSLSTUDIO_STORE") from None
            try:
                todo, outdated = self._changes(relpaths, prune)  # a shared, read-only store is read as it is
            except IndexDamaged as damage:
                raise self._unrebuildable(damage, reason) from None
            if todo or outdated:
                changed = len(set(map(os.fsencode, todo)) | outdated)
                raise UserError(f"the sample store in {self.path} is read-only ({reason}), and {changed} of the "
                                f"folder's files changed since it was made; make it writable, or keep stores "
                                f"elsewhere with --store DIR or SSLSTUDIO_STORE") from None
            return True

    def _sync(self, relpaths: list[str], threads: int, progress: Progress | None, prune: bool, wait: bool,
              trust_recent: bool) -> bool:
        listing = int(hashlib.sha1("\n".join(relpaths).encode("utf-8", "surrogateescape")).hexdigest()[:15], 16)
        with self._writing(progress, wait) as holding:
            if not holding:
                return False
            if trust_recent and self._synced_lately(listing):
                return True
            self._forget(self._damaged_files(progress))
            todo, outdated = self._changes(relpaths, prune)
            self._forget(outdated)
            if todo:
                self._decode(todo, threads, progress)
            elif progress is not None:
                progress(len(relpaths), len(relpaths))
            with self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)",
                               [("synced_listing", listing), ("synced_at", int(time.time()))])
        return True

    def _changes(self, relpaths: list[str], prune: bool) -> tuple[list[str], set[bytes]]:
        """(the files to decode, the stored files to forget: changed ones, and with `prune` those not among
        `relpaths`)."""
        stored = self._stored_stats()
        todo = [p for p in relpaths if stored.get(os.fsencode(p)) != _stat(self.folder, p)]
        outdated = {key for key in map(os.fsencode, todo) if key in stored}
        return todo, outdated | (set(stored) - set(map(os.fsencode, relpaths)) if prune else set())

    def _synced_lately(self, listing: int) -> bool:
        with self._connect() as db:
            state = dict(db.execute("SELECT key, value FROM state WHERE key IN ('synced_listing', 'synced_at')"))
        return state.get("synced_listing") == listing and time.time() - state.get("synced_at", 0) < 120

    @contextlib.contextmanager
    def _writing(self, progress: Progress | None, wait: bool = True):
        """The records' one-writer lock, with the uncommitted tail cut off once it is held."""
        with self._locked(LOCK, progress, wait) as holding:
            if holding:
                self._cut_uncommitted_tail()
            yield holding

    @contextlib.contextmanager
    def _locked(self, name: str, progress: Progress | None, wait: bool):
        """A lock file of this store; a second taker waits (cancellable through `progress`) unless not `wait`."""
        handle = open(self.path / name, "a+b")
        holding = False
        try:
            while not (holding := try_lock(handle)) and wait:
                if progress is not None:
                    progress(0, 0)  # "waiting": lets the caller cancel
                time.sleep(0.2)
            yield holding
        finally:
            if holding:
                unlock(handle)
            handle.close()

    def _cut_uncommitted_tail(self) -> None:
        with self._connect() as db:
            end = db.execute("SELECT value FROM state WHERE key = 'committed_end'").fetchone()[0]
        with open(self.data_path, "ab") as f:
            size = f.tell()
            if size > end:
                f.truncate(end)
        if size < end:
            self._forget_lost_tail(size, end)

    def _forget(self, paths: set[bytes]) -> None:
        if not paths:
            return
        with self._connect() as db:
            dead = 0
            for path in paths:
                records = db.execute("SELECT offset, nbytes FROM records WHERE path = ?", (path,)).fetchall()
                dead += sum(nbytes for _, nbytes in records)
                db.executemany("DELETE FROM tokens WHERE offset = ?", [(offset,) for offset, _ in records])
                db.execute("DELETE FROM records WHERE path = ?", (path,))
                db.execute("DELETE FROM files WHERE path = ?", (path,))
            db.execute("UPDATE state SET value = value + ? WHERE key = 'dead_bytes'", (dead,))

    def _decode(self, todo: list[str], threads: int, progress: Progress | None) -> None:
        rows_files, rows_records = [], []
        stats = {p: _stat(self.folder, p) for p in todo}
        with open(self.data_path, "ab") as data:
            last_commit = time.monotonic()

            def commit() -> None:
                data.flush()
                os.fsync(data.fileno())
                with self._connect() as db:
                    db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", rows_files)
                    db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?)", rows_records)
                    db.execute("UPDATE state SET value = ? WHERE key = 'committed_end'", (data.tell(),))
                rows_files.clear()
                rows_records.clear()

            def store(i: int, result) -> None:
                nonlocal last_commit
                relpath = todo[i]
                key = os.fsencode(relpath)
                note = getattr(result, "note", None)
                if not isinstance(result, Unusable):
                    rows = []
                    try:  # a long recording is read here, segment by segment, as it is written
                        for seq, (suffix, payload) in enumerate(result):
                            rows.append((key, seq, suffix, data.tell(), len(payload), zlib.crc32(payload)))
                            data.write(payload)
                    except Unusable as exc:
                        result = exc  # the segments written before the bad one stay unreferenced
                    else:
                        rows_records.extend(rows)
                unusable = isinstance(result, Unusable)
                rows_files.append((key, *stats[relpath], str(result) if unusable else None,
                                   None if unusable else note))
                if progress is not None and (i % 64 == 0 or i == len(todo) - 1):
                    progress(i + 1, len(todo))
                if time.monotonic() - last_commit > COMMIT_SECONDS:
                    commit()
                    last_commit = time.monotonic()

            try:
                decode_all(self.folder, todo, self.modality, self.spec, threads, store)
            finally:
                commit()  # what was decoded before a cancel or an error is kept


def _stat(folder: Path, relpath: str) -> tuple[int, int, int, int]:
    """What tells a changed file: a rewrite that keeps the size and mtime still changes the ctime (or the inode)."""
    try:
        st = os.stat(os.path.join(folder, relpath))
    except OSError:
        return (-1, -1, -1, -1)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40]

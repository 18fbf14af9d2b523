"""The run directory: config.json, metrics.jsonl, checkpoints/, pipeline and tokenizer files."""
from __future__ import annotations

import json
import platform
import shutil
from pathlib import Path

from sslstudio.core.errors import RunError
from sslstudio.core.io import atomic_write, atomic_write_text, try_lock, unlock

CONFIG_VERSION = 1
LOCK = ".training.lock"
KEPT_CHECKPOINTS = 5  # each is a full copy (model, optimizer): a ResNet-18's is over 100 MB


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = None

    def lock(self, create: bool) -> bool:
        """Take the run folder for one training process: a second one, on the same --out, is refused in
        words instead of interleaving its checkpoints and metrics with the first's. `create` makes a
        missing folder (a new run); returns True when it did, so a run that fails to start can remove it.
        Temp files of a checkpoint write cut short by a kill are removed once the folder is ours."""
        created = create and not self.path.exists()
        if not create and not self.path.is_dir():
            raise RunError(f"nothing to resume: {self.path} is not a run folder")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / LOCK, "a+b")
        except OSError as exc:
            raise RunError(f"cannot write the run folder {self.path} ({exc.strerror or exc})") from None
        if not try_lock(handle):
            handle.close()
            raise RunError(f"{self.path} is being written by another training process; wait for it to end, "
                           f"or choose another --out")
        self._lock = handle
        for stale in (self.path / "checkpoints").glob(".*.pt.*.tmp"):
            stale.unlink(missing_ok=True)
        return created

    def unlock(self, remove_if_empty: bool = False) -> None:
        """Release the folder; `remove_if_empty`: a run that failed before writing anything leaves no folder."""
        if self._lock is not None:
            unlock(self._lock)
            self._lock.close()
            self._lock = None
        if remove_if_empty and [p.name for p in self.path.iterdir()] == [LOCK]:
            (self.path / LOCK).unlink()
            self.path.rmdir()

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def last_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    def has_checkpoint(self) -> bool:
        return self.last_checkpoint.is_file()

    def keep_checkpoint(self, step: int) -> Path:
        """Keep the current last.pt as checkpoints/step-NNNNNNN.pt: a copy, not a hard link, so that
        damage to one file on the disk leaves the other good."""
        kept = self.path / "checkpoints" / f"step-{step:07d}.pt"
        atomic_write(kept, lambda f: _copy_into(self.last_checkpoint, f))
        for _, old in self.checkpoints()[:-KEPT_CHECKPOINTS]:
            old.unlink(missing_ok=True)
        return kept

    def load_state(self, checkpoint: str | Path | None = None) -> tuple[dict, Path]:
        """The state of `checkpoint`, or of the run's last one. When the last is damaged, the error
        names the newest kept checkpoint that is good, to pass as --checkpoint."""
        from sslstudio.core.training.checkpoint import load_checkpoint

        path = Path(checkpoint) if checkpoint else self.last_checkpoint
        try:
            return load_checkpoint(path), path
        except RunError as exc:
            if checkpoint or not path.exists():
                raise
            good = self.newest_good_checkpoint()
            hint = (f"; the newest good one is {good}: pass --checkpoint {good}" if good
                    else "; no kept checkpoint of the run is readable either")
            raise RunError(f"{exc}{hint}") from None

    def newest_good_checkpoint(self) -> Path | None:
        from sslstudio.core.training.checkpoint import load_checkpoint

        for _, path in reversed(self.checkpoints()):
            try:
                load_checkpoint(path)
            except RunError:
                continue
            return path
        return None

    def checkpoints(self) -> list[tuple[int, Path]]:
        """(step, path) of every kept checkpoint, oldest first."""
        found = []
        for path in (self.path / "checkpoints").glob("step-*.pt"):
            try:
                found.append((int(path.stem.split("-", 1)[1]), path))
            except ValueError:
                continue
        return sorted(found)

    def drop_metrics_after(self, step: int) -> None:
        """Resuming from an earlier checkpoint: forget the steps logged after it."""
        if not self.metrics_path.is_file():
            return
        kept = [r for r in self.read_metrics() if r.get("step", 0) <= step]
        atomic_write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))

    def write_config(self, config: dict) -> None:
        full = {"version": CONFIG_VERSION, **config, "versions": software_versions()}
        atomic_write_text(self.config_path, json.dumps(full, indent=1, default=str))

    def read_config(self) -> dict:
        if not self.config_path.is_file():
            raise RunError(f"{self.path} is not a run folder (no config.json)")
        try:
            config = json.loads(self.config_path.read_text())
        except (OSError, ValueError) as exc:
            raise RunError(f"{self.config_path} is unreadable: {exc}") from None
        if config.get("version", 0) > CONFIG_VERSION:
            raise RunError(f"{self.path} was written by a newer sslstudio (config v{config['version']})")
        return config

    def append_metrics(self, record: dict) -> None:
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def last_logged_step(self) -> int:
        """The step of the last complete metrics line, read from the file's end: a runs list asks this of
        every run at each checkpoint, on the GUI thread, and a long run's file holds 100k lines."""
        try:
            with open(self.metrics_path, "rb") as f:
                f.seek(max(0, f.seek(0, 2) - 4096))
                lines = f.read().splitlines()
        except OSError:
            return 0
        for line in reversed(lines):
            try:
                return int(json.loads(line)["step"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash, or the start of one cut by the seek
        return 0

    def read_metrics(self) -> list[dict]:
        if not self.metrics_path.is_file():
            return []
        records = []
        for line in self.metrics_path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by a crash
        return records


def _copy_into(source: Path, target) -> None:
    with open(source, "rb") as f:
        shutil.copyfileobj(f, target, 1 << 20)


def software_versions() -> dict:
    import numpy
    import torch

    import sslstudio

    return {"sslstudio": sslstudio.__version__, "torch": torch.__version__,
            "numpy": numpy.__version__, "python": platform.python_version()}

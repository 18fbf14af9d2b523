"""The project file: what the workbench remembers about one piece of work.

One JSON file (`*.sslproj`) beside its runs: the data folder, the chosen task
and its settings, the training settings, the runs made, labels assigned in the
app and view settings. It carries a schema version; older files are upgraded
step by step on load (napari and Orange do the same), and every save is atomic,
so a crash mid-save leaves the previous file whole.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from sslstudio.core.errors import UserError
from sslstudio.core.io import atomic_write_text

SUFFIX = ".sslproj"
VERSION = 2


@dataclass
class Project:
    folder: str | None = None
    modality: str | None = None
    task: str | None = None
    task_args: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)  # input settings (image size, clip length...), as last chosen
    train_settings: dict = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)  # {"path", "task", "created"}; path relative when inside
    labels: dict[str, str] = field(default_factory=dict)  # sample path -> class assigned in the app
    view: dict = field(default_factory=dict)

    def add_run(self, run_path: str | Path, task: str, created: str, project_path: Path | None) -> None:
        entry = {"path": _relative_to(Path(run_path), project_path), "task": task, "created": created}
        self.runs = [r for r in self.runs if r["path"] != entry["path"]] + [entry]

    def run_paths(self, project_path: Path | None) -> list[Path]:
        base = project_path.parent if project_path else Path.cwd()
        return [(base / r["path"]).resolve() if not Path(r["path"]).is_absolute() else Path(r["path"])
                for r in self.runs]


def _relative_to(path: Path, project_path: Path | None) -> str:
    path = path.resolve()
    if project_path is not None:
        try:
            return path.relative_to(project_path.resolve().parent).as_posix()
        except ValueError:
            pass
    return str(path)


def _from_1(data: dict) -> dict:
    """Version 1 kept a single run as `run`; version 2 keeps a list of runs."""
    run = data.pop("run", None)
    data["runs"] = [{"path": run, "task": data.get("task"), "created": ""}] if run else []
    return data


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _from_1}


def load_project(path: str | Path) -> Project:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"project file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is not a readable sslstudio project: {error}") from None
    if not isinstance(data, dict) or data.get("format") != "sslstudio-project":
        raise UserError(f"{path} is not an sslstudio project file")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise UserError(f"{path} has no valid project version")
    if version > VERSION:
        raise UserError(f"{path} was written by a newer sslstudio (project version {version}; "
                        f"this one reads up to {VERSION}); update sslstudio to open it")
    while version < VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    known = {f.name for f in fields(Project)}
    return Project(**{k: v for k, v in data.items() if k in known})


def save_project(project: Project, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    body = {"format": "sslstudio-project", "version": VERSION, **asdict(project)}
    atomic_write_text(path, json.dumps(body, indent=2, sort_keys=True) + "\n")
    return path

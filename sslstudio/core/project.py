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
    except RecursionError:
        raise UserError(f"{path} is not a readable sslstudio project: its JSON is nested too deeply") from None
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
    data = {k: v for k, v in data.items() if k in known}
    problem = _schema_problem(data)
    if problem:
        raise UserError(f"{path} is not a valid sslstudio project: {problem}")
    project = Project(**data)
    if project.folder and not Path(project.folder).is_absolute():  # like its runs: beside the project file
        project.folder = str((path.resolve().parent / project.folder).resolve())
    return project


SCALAR = (str, int, float, bool, type(None))
MODALITIES = ("image", "audio", "text")


def _schema_problem(data: dict) -> str | None:
    """What is wrong with a project's fields, naming the field; None when nothing is."""
    for name in ("folder", "task"):
        if not isinstance(data.get(name), (str, type(None))):
            return f"{name} must be text or null, not {_shown(data[name])}"
    if data.get("modality") not in (None, *MODALITIES):
        return f"modality must be one of {', '.join(MODALITIES)} or null, not {_shown(data['modality'])}"
    for name in ("task_args", "inputs", "train_settings", "view", "labels"):
        value = data.get(name, {})
        if not isinstance(value, dict):
            return f"{name} must be an object ({{...}}), not {_shown(value)}"
        for key, item in value.items():
            if not isinstance(item, str if name == "labels" else SCALAR):
                kind = "text" if name == "labels" else "a number, text, true/false or null"
                return f"{name}.{key} must be {kind}, not {_shown(item)}"
    runs = data.get("runs", [])
    if not isinstance(runs, list):
        return f"runs must be a list ([...]), not {_shown(runs)}"
    for i, run in enumerate(runs):
        if not isinstance(run, dict) or not isinstance(run.get("path"), str) or not run["path"]:
            return f"runs[{i}] must be an object with a \"path\" text, not {_shown(run)}"
        for key in ("task", "created"):
            if not isinstance(run.get(key), (str, type(None))):
                return f"runs[{i}].{key} must be text, not {_shown(run[key])}"
    return None


def _shown(value) -> str:
    text = json.dumps(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def save_project(project: Project, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    body = {"format": "sslstudio-project", "version": VERSION, **asdict(project)}
    atomic_write_text(path, json.dumps(body, indent=2, sort_keys=True) + "\n")
    return path

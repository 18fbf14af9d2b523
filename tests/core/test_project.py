import json

import pytest

from sslstudio.core.errors import UserError
from sslstudio.core.project import VERSION, Project, load_project, save_project


def test_round_trip_keeps_everything(tmp_path):
    project = Project(folder=str(tmp_path / "data"), modality="image", task="simclr",
                      task_args={"temperature": 0.3}, train_settings={"max_minutes": 2.0},
                      labels={"a.png": "cat"}, view={"page": 2})
    project.add_run(tmp_path / "runs" / "one", "simclr", "2026-11-28T10:00", tmp_path / "p.sslproj")
    path = save_project(project, tmp_path / "p")
    assert path.name == "p.sslproj"
    again = load_project(path)
    assert again == project
    assert again.runs[0]["path"] == "runs/one"  # relative, so the project folder can move
    assert again.run_paths(path) == [(tmp_path / "runs" / "one").resolve()]


def test_adding_a_run_twice_keeps_one_entry(tmp_path):
    project = Project()
    for _ in range(2):
        project.add_run(tmp_path / "r", "rotation", "t", None)
    assert len(project.runs) == 1


def test_version_1_files_are_migrated(tmp_path):
    path = tmp_path / "old.sslproj"
    path.write_text(json.dumps({"format": "sslstudio-project", "version": 1, "folder": "/data",
                                "task": "rotation", "run": "runs/a"}))
    project = load_project(path)
    assert project.runs == [{"path": "runs/a", "task": "rotation", "created": ""}]
    assert project.folder == "/data"


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a readable sslstudio project"),
    (json.dumps({"format": "something-else", "version": 1}), "not an sslstudio project"),
    (json.dumps({"format": "sslstudio-project", "version": VERSION + 1}), "newer sslstudio"),
    (json.dumps({"format": "sslstudio-project"}), "no valid project version"),
])
def test_bad_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.sslproj"
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        load_project(path)


def test_a_failed_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = save_project(Project(folder="first"), tmp_path / "p.sslproj")

    def disk_full(fd):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", disk_full)  # fails after the new text is half on disk
    with pytest.raises(OSError):
        save_project(Project(folder="second"), path)
    monkeypatch.undo()
    assert load_project(path).folder == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["p.sslproj"]

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
    assert load_project(path).folder == str((tmp_path / "first").resolve())
    assert [p.name for p in tmp_path.iterdir()] == ["p.sslproj"]


def project_file(tmp_path, **fields):
    path = tmp_path / "damaged.sslproj"
    path.write_text(json.dumps({"format": "sslstudio-project", "version": VERSION, **fields}))
    return path


@pytest.mark.parametrize("fields, message", [
    ({"folder": 123}, "folder must be text or null, not 123"),
    ({"runs": "x"}, 'runs must be a list ([...]), not "x"'),
    ({"runs": [{"task": "rotation"}]}, 'runs[0] must be an object with a "path" text, not dict'),
    ({"labels": []}, "labels must be an object ({...}), not list"),
    ({"labels": {"a.png": 3}}, "labels.a.png must be text, not 3"),
    ({"task_args": []}, "task_args must be an object ({...}), not list"),
    ({"task_args": {"shift": {"deep": 1}}}, "task_args.shift must be a number, text, true/false or null, not dict"),
    ({"modality": "video"}, 'modality must be one of image, audio, text or null, not "video"'),
])
def test_each_wrong_field_is_named(tmp_path, fields, message):
    with pytest.raises(UserError) as info:
        load_project(project_file(tmp_path, **fields))
    assert str(info.value).endswith(message)


def test_a_project_nested_100000_deep_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "deep.sslproj"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UserError, match="nested too deeply"):
        load_project(path)


def test_a_relative_folder_is_beside_the_project_file_like_its_runs(tmp_path, monkeypatch):
    (tmp_path / "work" / "data").mkdir(parents=True)
    path = project_file(tmp_path / "work", folder="data", runs=[{"path": "runs/a", "task": "rotation"}])
    monkeypatch.chdir(tmp_path)  # another working folder: it must not matter
    project = load_project(path)
    assert project.folder == str((tmp_path / "work" / "data").resolve())
    assert project.run_paths(path) == [(tmp_path / "work" / "runs" / "a").resolve()]

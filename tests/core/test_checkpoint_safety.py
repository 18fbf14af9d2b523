"""Checkpoints that are damaged, foreign or cut short are refused in one line, and a way back is offered."""
import os
import zipfile

import pytest
import torch

from sslstudio.core.errors import RunError
from sslstudio.core.training import trainer as trainer_module
from sslstudio.core.training.checkpoint import load_checkpoint, save_checkpoint
from sslstudio.core.training.events import CheckpointSaved
from sslstudio.core.training.run_dir import RunDir
from sslstudio.core.training.session import TrainRequest, load_run, prepare, train

EVERY_STEP = {"epochs": 100, "batch_size": 8, "log_every": 1, "checkpoint_minutes": 0.0}


def flip_tensor_bytes(path, count=64):
    """Flip `count` bytes in the middle of the largest tensor stored in a torch checkpoint (a zip)."""
    with zipfile.ZipFile(path) as archive:
        entry = max(archive.infolist(), key=lambda i: i.file_size)
    with open(path, "r+b") as f:
        f.seek(entry.header_offset + 26)
        name_length, extra_length = int.from_bytes(f.read(2), "little"), int.from_bytes(f.read(2), "little")
        start = entry.header_offset + 30 + name_length + extra_length + entry.file_size // 2
        f.seek(start)
        damaged = bytes(b ^ 0xFF for b in f.read(count))
        f.seek(start)
        f.write(damaged)


@pytest.fixture
def run_of_three_checkpoints(tiny_images, tmp_path):
    run = tmp_path / "run"
    train(TrainRequest(tiny_images, run, "rotation", train_settings={**EVERY_STEP, "max_steps": 3}))
    return run


def test_flipped_bytes_in_the_weights_are_found_by_the_checksum(run_of_three_checkpoints):
    last = RunDir(run_of_three_checkpoints).last_checkpoint
    load_checkpoint(last)
    flip_tensor_bytes(last)
    with pytest.raises(RunError, match="damaged: its weights do not match the checksum"):
        load_checkpoint(last)


def test_weights_that_are_not_finite_are_refused(tmp_path):
    save_checkpoint(tmp_path / "nan.pt", {"model": {"w": torch.tensor([1.0, float("nan")])}})
    with pytest.raises(RunError, match="not finite"):
        load_checkpoint(tmp_path / "nan.pt")


def test_a_damaged_last_checkpoint_names_the_newest_good_one_which_is_a_copy(run_of_three_checkpoints):
    run_dir = RunDir(run_of_three_checkpoints)
    newest = run_dir.checkpoints()[-1][1]
    assert os.stat(newest).st_ino != os.stat(run_dir.last_checkpoint).st_ino  # damage to one spares the other
    flip_tensor_bytes(run_dir.last_checkpoint)
    with pytest.raises(RunError) as info:
        load_run(run_of_three_checkpoints)
    assert f"the newest good one is {newest}: pass --checkpoint {newest}" in str(info.value)
    assert load_run(run_of_three_checkpoints, newest).checkpoint == newest


def test_a_checkpoint_of_another_task_is_one_line(run_of_three_checkpoints, tiny_images, tmp_path):
    other = tmp_path / "jigsaw"
    train(TrainRequest(tiny_images, other, "jigsaw", train_settings={**EVERY_STEP, "max_steps": 1}))
    RunDir(run_of_three_checkpoints).last_checkpoint.write_bytes(RunDir(other).last_checkpoint.read_bytes())
    with pytest.raises(RunError) as info:
        load_run(run_of_three_checkpoints)
    assert "does not fit the run's config.json" in str(info.value) and "\n" not in str(info.value)


def test_temp_files_of_a_killed_write_are_removed_when_training_resumes(run_of_three_checkpoints, tiny_images):
    stale = RunDir(run_of_three_checkpoints).last_checkpoint.parent / ".last.pt.x1y2z3.tmp"
    stale.write_bytes(b"half a checkpoint")
    train(TrainRequest(tiny_images, run_of_three_checkpoints, resume=True, train_settings={"max_steps": 4}))
    assert not stale.exists()


def test_the_first_checkpoint_comes_early(tiny_images, tmp_path, monkeypatch):
    monkeypatch.setattr(trainer_module, "FIRST_CHECKPOINT_SECONDS", 0.0)
    saved = []
    train(TrainRequest(tiny_images, tmp_path / "run", "rotation",
                       train_settings={"epochs": 100, "batch_size": 8, "max_steps": 4}),
          [lambda e: saved.append(e.step) if isinstance(e, CheckpointSaved) else None])
    assert saved == [1, 4]  # then every 2 minutes, and at the end


def test_a_second_training_on_the_same_folder_is_refused(tiny_images, tmp_path):
    request = TrainRequest(tiny_images, tmp_path / "run", "rotation", train_settings={"max_steps": 2, "batch_size": 8})
    first = prepare(request)  # holds the run folder until train() ends
    with pytest.raises(RunError, match="being written by another training process"):
        prepare(request)
    assert train(request, prepared=first).step == 2
    with pytest.raises(RunError, match="already holds a run"):  # free again, and the run is there
        prepare(request)


def test_a_run_that_fails_to_start_leaves_no_folder_behind(tiny_images, tmp_path):
    from sslstudio.core.errors import UserError

    with pytest.raises(UserError, match="unknown task"):
        prepare(TrainRequest(tiny_images, tmp_path / "typo", "rotaton"))
    with pytest.raises(RunError, match="nothing to resume"):
        prepare(TrainRequest(tiny_images, tmp_path / "missing", resume=True))
    assert not (tmp_path / "typo").exists() and not (tmp_path / "missing").exists()

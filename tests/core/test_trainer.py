import json
import threading

import pytest
import torch

from sslstudio.core.errors import RunError, UserError
from sslstudio.core.progress import Control
from sslstudio.core.training.checkpoint import load_checkpoint
from sslstudio.core.training.device import resolve_device
from sslstudio.core.training.events import CheckpointSaved, HealthMetrics, StepMetrics, TrainingFailed
from sslstudio.core.training.run_dir import RunDir
from sslstudio.core.training.trainer import TrainConfig, Trainer, lr_factor

from .helpers import build

CONFIG = TrainConfig(epochs=100, max_steps=12, batch_size=8, log_every=3, seed=3)


def trainer_for(folder, run_path, config=CONFIG, **kwargs):
    torch.manual_seed(0)
    task, model, raw = build(folder, "rotation", all_rotations=False)
    return Trainer(task, model, raw, config, RunDir(run_path), **kwargs)


def test_resumed_run_ends_bit_identical_to_an_uninterrupted_one(tiny_images, tmp_path):
    straight = trainer_for(tiny_images, tmp_path / "a")
    assert straight.fit().reason == "step limit of 12 reached"
    control = Control()
    def interrupt(e):
        if isinstance(e, StepMetrics) and e.step == 6:
            control.cancel()
    assert trainer_for(tiny_images, tmp_path / "b", control=control, callbacks=[interrupt]).fit().step == 6
    resumed = trainer_for(tiny_images, tmp_path / "b")
    resumed.resume_from(RunDir(tmp_path / "b").last_checkpoint)
    assert resumed.step == 6
    resumed.fit()
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


def test_events_metrics_file_and_checkpoint_contents(tiny_images, tmp_path):
    events = []
    result = trainer_for(tiny_images, tmp_path / "run", callbacks=[events.append]).fit()
    steps = [e for e in events if isinstance(e, StepMetrics)]
    health = [e for e in events if isinstance(e, HealthMetrics)]
    assert [e.step for e in steps] == [3, 6, 9, 12] and len(health) == 4
    assert all(0 <= e.collapse_std <= 1 and 1 <= e.effective_rank <= e.embed_dim for e in health)
    assert steps[-1].eta_s == 0 and steps[0].samples_per_s > 0 and 0 <= steps[0].data_wait_share <= 1
    assert isinstance(events[-2], CheckpointSaved) and result.step == 12
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [3, 6, 9, 12]
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert {"model", "optimizer", "scaler", "rng", "progress"} <= set(state)
    assert state["progress"]["step"] == 12
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["last.pt", "step-0000012.pt"]


def test_cancel_stops_between_steps_and_keeps_a_checkpoint(tiny_images, tmp_path):
    control = Control()
    def stop_at_six(event):
        if isinstance(event, StepMetrics) and event.step == 6:
            control.cancel()
    result = trainer_for(tiny_images, tmp_path / "run", control=control, callbacks=[stop_at_six]).fit()
    assert result.reason == "cancelled" and result.step == 6
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["progress"]["step"] == 6


def test_pause_blocks_until_resumed(tiny_images, tmp_path):
    control = Control()
    paused_at = threading.Event()
    def pause_at_three(event):
        if isinstance(event, StepMetrics) and event.step == 3:
            control.pause()
            paused_at.set()
    trainer = trainer_for(tiny_images, tmp_path / "run", control=control, callbacks=[pause_at_three])
    worker = threading.Thread(target=trainer.fit)
    worker.start()
    assert paused_at.wait(60)
    worker.join(0.5)
    assert worker.is_alive() and trainer.step == 3
    control.resume()
    worker.join(60)
    assert not worker.is_alive() and trainer.step == 12


def test_nan_loss_stops_with_a_plain_message_and_keeps_the_good_checkpoint(tiny_images, tmp_path):
    trainer_for(tiny_images, tmp_path / "run", TrainConfig(**{**CONFIG.__dict__, "max_steps": 3})).fit()
    good = (tmp_path / "run" / "checkpoints" / "last.pt").read_bytes()
    bad = trainer_for(tiny_images, tmp_path / "run", TrainConfig(**{**CONFIG.__dict__, "lr": 1e30}))
    bad.resume_from(RunDir(tmp_path / "run").last_checkpoint)
    result = bad.fit()
    assert isinstance(result, TrainingFailed)
    assert "loss is nan" in result.message and "last good checkpoint is kept" in result.message
    assert (tmp_path / "run" / "checkpoints" / "last.pt").read_bytes() == good


def test_time_budget_ends_the_run(tiny_images, tmp_path):
    config = TrainConfig(epochs=10_000, batch_size=8, max_minutes=0.02)
    result = trainer_for(tiny_images, tmp_path / "run", config).fit()
    assert result.reason == "time budget of 0.02 min used" and 0 < result.step


def test_damaged_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "last.pt"
    path.write_bytes(b"\x80\x04garbage")
    with pytest.raises(RunError, match="unreadable"):
        load_checkpoint(path)


def test_schedule_warms_up_then_decays():
    assert lr_factor(0.0, 0.1) < 0.05 and lr_factor(0.1, 0.1) == pytest.approx(1.0)
    assert lr_factor(0.55, 0.1) == pytest.approx(0.5) and lr_factor(1.0, 0.1) == pytest.approx(0.0)


def test_device_choice():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(UserError, match="unknown device"):
        resolve_device("tpu7")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA GPU"):
            resolve_device("cuda:1")


@pytest.mark.parametrize("budget,expected", [(0.0, 1), (10.0, 4)])
def test_online_knn_is_measured_within_its_time_budget(tiny_images, tmp_path, budget, expected):
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.training.knn_monitor import KnnMonitor

    trainer = trainer_for(tiny_images, tmp_path / "run")
    samples = load_folder(tiny_images, "image")
    trainer.monitor = KnnMonitor(samples, trainer.task.pipeline, budget_share=budget)
    events = []
    trainer.callbacks.append(events.append)
    trainer.fit()
    measured = [e.knn_accuracy for e in events if isinstance(e, HealthMetrics) and e.knn_accuracy is not None]
    assert len(measured) == expected and all(0.0 <= a <= 1.0 for a in measured)
    assert trainer.model.backbone.training  # put back in training mode after each measurement


def test_training_on_a_labelled_folder_logs_knn_accuracy(tiny_images, tmp_path):
    from sslstudio.core.training.session import TrainRequest, train

    events = []
    train(TrainRequest(tiny_images, tmp_path / "run", "rotation", train_settings={"max_steps": 3, "batch_size": 8,
                                                                                   "log_every": 3}),
          [events.append])
    [health] = [e for e in events if isinstance(e, HealthMetrics)]
    assert health.knn_accuracy is not None and health.knn_accuracy > 1 / 4  # 4 classes: beats chance
    assert "knn_accuracy" in json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[0])


def test_checkpoints_are_kept_and_a_run_can_branch_from_an_earlier_one(tiny_images, tmp_path, monkeypatch):
    from sslstudio.core.training import run_dir as run_dir_module
    from sslstudio.core.training.session import TrainRequest, train

    monkeypatch.setattr(run_dir_module, "KEPT_CHECKPOINTS", 2)
    folder, run = tiny_images, tmp_path / "run"
    settings = {"epochs": 100, "batch_size": 8, "log_every": 2, "checkpoint_minutes": 0.0}  # a checkpoint per step
    assert train(TrainRequest(folder, run, "rotation", train_settings={**settings, "max_steps": 6})).step == 6
    kept = RunDir(run).checkpoints()
    assert [step for step, _ in kept] == [5, 6]  # older ones pruned
    assert json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 6
    branch = train(TrainRequest(folder, run, resume=True, resume_from=str(kept[0][1]),
                                train_settings={"max_steps": 8}))
    assert branch.step == 8
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 6, 8]  # step 6 of the first branch was dropped when resuming from step 5


def test_a_time_budget_alone_ends_the_run_and_paces_the_schedule(tiny_images, tmp_path):
    """No epochs, no steps: time decides when the run stops and how far the learning rate has decayed."""
    events = []
    budget = TrainConfig(max_minutes=0.03, batch_size=8, log_every=1, warmup_fraction=0.0)
    trainer = trainer_for(tiny_images, tmp_path / "run", budget, callbacks=[events.append])
    assert trainer.total_steps is None
    result = trainer.fit()
    steps = [e for e in events if isinstance(e, StepMetrics)]
    # The run ends at the first step past the budget: on a loaded machine one step may take most of it.
    assert result.reason == "time budget of 0.03 min used" and 1.8 <= result.seconds < 1.8 + 30
    assert all(e.total_steps is None for e in steps) and steps[-1].progress > 0.9
    # A step's rate is the schedule's where the step starts: the cosine is at its start early on and near its
    # end by the last step (which a machine so loaded that one step takes the whole budget never reaches).
    assert all(e.lr > 0.5 * budget.lr for e in steps if e.progress < 0.25)
    if len(steps) >= 20:  # then the last starts past 95 % of the budget
        assert steps[-1].lr < 0.05 * budget.lr


def test_which_limit_ended_the_run_is_said(tiny_images, tmp_path):
    by_epochs = trainer_for(tiny_images, tmp_path / "a", TrainConfig(epochs=2, batch_size=8))
    assert by_epochs.fit().reason == "2 epochs done"
    both = trainer_for(tiny_images, tmp_path / "b", TrainConfig(epochs=2, max_steps=3, batch_size=8))
    assert both.fit().reason == "step limit of 3 reached"
    assert trainer_for(tiny_images, tmp_path / "c", TrainConfig(batch_size=8)).total_steps == \
        20 * trainer_for(tiny_images, tmp_path / "d", TrainConfig(batch_size=8)).steps_per_epoch


def test_speed_counts_samples_and_the_views_apart(tiny_images, tmp_path):
    torch.manual_seed(0)
    task, model, raw = build(tiny_images, "rotation", all_rotations=True)  # four turns of every image
    events = []
    Trainer(task, model, raw, TrainConfig(max_steps=4, batch_size=8, log_every=2),
            callbacks=[events.append]).fit()
    step = [e for e in events if isinstance(e, StepMetrics)][-1]
    assert step.views_per_s == pytest.approx(4 * step.samples_per_s)


def test_the_knn_monitor_is_skipped_when_it_would_overrun_the_budget(tiny_images, tmp_path):
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.training.knn_monitor import KnnMonitor

    trainer = trainer_for(tiny_images, tmp_path / "run")
    monitor = KnnMonitor(load_folder(tiny_images, "image"), trainer.task.pipeline, budget_share=1.0)
    monitor.measure(trainer.model.backbone, torch.device("cpu"))
    assert monitor.last_seconds > 0
    assert monitor.due(100.0) and monitor.due(100.0, seconds_left=monitor.last_seconds * 2)
    assert not monitor.due(100.0, seconds_left=monitor.last_seconds / 2)


def test_a_runs_metrics_read_back_are_the_events_it_reported(tiny_images, tmp_path):
    from sslstudio.core.training.events import events_from_record

    seen = []
    trainer = trainer_for(tiny_images, tmp_path / "run", CONFIG)
    trainer.callbacks.append(lambda event: seen.append(event) if isinstance(event, (StepMetrics, HealthMetrics))
                             else None)
    trainer.fit()
    read_back = [event for record in RunDir(tmp_path / "run").read_metrics() for event in events_from_record(record)]
    assert read_back == seen and len(seen) == 2 * (CONFIG.max_steps // CONFIG.log_every)


def test_the_last_logged_step_is_read_from_the_end_of_the_metrics(tiny_images, tmp_path):
    trainer_for(tiny_images, tmp_path / "run", CONFIG).fit()
    run = RunDir(tmp_path / "run")
    assert run.last_logged_step() == run.read_metrics()[-1]["step"] == CONFIG.max_steps
    with open(run.metrics_path, "a") as f:
        f.write('{"step": 99, "lo')  # a line cut short by a crash
    assert run.last_logged_step() == CONFIG.max_steps
    assert RunDir(tmp_path / "none").last_logged_step() == 0


def test_an_online_knn_too_slow_for_its_budget_goes_on_with_fewer_samples(tiny_images, tmp_path):
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.training.knn_monitor import KnnMonitor

    trainer = trainer_for(tiny_images, tmp_path / "run")
    monitor = KnnMonitor(load_folder(tiny_images, "image"), trainer.task.pipeline, budget_share=1e-4, min_samples=16)
    measured = len(monitor.bank) + len(monitor.query)
    assert monitor.due(1.0)
    monitor.measure(trainer.model.backbone, torch.device("cpu"))  # far more than 1e-4 of the second it followed
    kept = len(monitor.bank) + len(monitor.query)
    assert 16 <= kept < measured and monitor.usable  # later measurements fit the budget better, not never
    assert set(monitor.bank).isdisjoint(monitor.query)

"""The whole workbench flow on real data, training included, and what happens when things go wrong."""
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from sslstudio.core.project import load_project
from sslstudio.core.training.run_dir import RunDir
from sslstudio.gui.main_window import STEPS, MainWindow
from sslstudio.resources import demo_folder


@pytest.fixture
def window(qtbot, no_questions, tmp_path):
    win = MainWindow()
    win.state.runs_root = lambda: tmp_path / "runs"
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()  # what a user does: asks, stops training, waits for it
    assert not win.train_panel.is_running()


def open_and_pick(qtbot, win, folder, task):
    with qtbot.waitSignal(win.data_panel.sig_checked, timeout=30_000):
        win.data_panel.open_folder(folder)
    qtbot.waitUntil(lambda: bool(win.task_panel.picker.catalogue), timeout=30_000)
    win.task_panel.picker.choose(task)
    qtbot.waitUntil(lambda: len(win.task_panel.grid.cards) > 0 and not win.task_panel.busy, timeout=60_000)
    qtbot.waitUntil(lambda: win.train_panel.settings.backbone_box.count() > 0, timeout=60_000)


def steps_seen(panel):
    return panel.monitor.plots.series["loss"].n


def last_step(panel):
    series = panel.monitor.plots.series["loss"]
    return series.x[series.n - 1] if series.n else 0


def test_open_pick_preview_train_pause_resume_stop_and_resume_from_a_checkpoint(qtbot, window):
    open_and_pick(qtbot, window, demo_folder("image"), "rotation")  # the bundled demo data, as a user starts
    generation = window.task_panel.generation
    window.task_panel.form.editors["shift"].setValue(2)  # a setting changes: the preview follows
    qtbot.waitUntil(lambda: window.task_panel.generation > generation and not window.task_panel.busy, timeout=30_000)
    assert window.state.project.task_args == {"shift": 2}
    assert window.state.project.inputs == {"image_size": 32}  # proposed from the 28-px images
    assert "sample store" in window.data_panel.store_label.text()  # the check decoded into the store
    generation = window.task_panel.generation
    window.task_panel.input_settings.form.editors["image_size"].setValue(24)  # an input setting changes too
    qtbot.waitUntil(lambda: window.task_panel.generation > generation and not window.task_panel.busy, timeout=30_000)
    assert window.state.project.inputs == {"image_size": 24}

    panel = window.train_panel
    window.go_to_step(2)
    panel.settings.form.set_values({"max_minutes": None, "epochs": 1000, "batch_size": 8})
    with qtbot.waitSignal(panel.sig_run_started, timeout=5000) as started:
        job = panel.start()
    run = started.args[0]
    assert window.state.project.runs and window.state.project.runs[-1]["task"] == "rotation"
    listed = [panel.runs.topLevelItem(n).text(0) for n in range(panel.runs.topLevelItemCount())]
    assert Path(run).name in listed  # the running run is listed at once, before its first checkpoint
    qtbot.waitUntil(lambda: (RunDir(run).path / "config.json").is_file(), timeout=60_000)
    config = RunDir(run).read_config()
    assert config["spec"]["image_size"] == 24 and config["backbone"] == "cnn_small"  # the automatic backbone
    qtbot.waitUntil(lambda: last_step(panel) >= 20, timeout=120_000)  # 20 steps trained
    assert "/ 125000 · loss" in panel.monitor.progress.format() and "images/s" in panel.monitor.progress.format()
    assert "views/s" in panel.monitor.progress.toolTip()  # rotation's four turns of each image, apart

    panel.buttons.pause_button.click()
    assert panel.buttons.pause_button.text() == "Resume" and window.train_label.text() == "training: paused"
    qtbot.wait(600)  # the loop finishes its step, then waits
    frozen = steps_seen(panel)
    qtbot.wait(1500)
    assert steps_seen(panel) == frozen
    assert panel.monitor.progress.format().startswith("paused") and "ETA" not in panel.monitor.progress.format()
    assert "(paused)" in panel.runs.findItems(Path(run).name, Qt.MatchFlag.MatchExactly)[0].text(1)

    panel.buttons.pause_button.click()
    qtbot.waitUntil(lambda: steps_seen(panel) > frozen, timeout=120_000)
    with qtbot.waitSignal(panel.sig_run_over, timeout=120_000):
        panel.buttons.stop_button.click()
    assert not job.is_running() and panel.buttons.start_button.isEnabled()
    kept = RunDir(run).checkpoints()
    assert kept, "stopping saves a checkpoint"
    assert panel.runs.topLevelItemCount() == 1 and panel.runs.topLevelItem(0).childCount() == len(kept)

    checkpoint = panel.runs.topLevelItem(0).child(0)
    resumed_at = int(checkpoint.text(1))
    panel.runs.setCurrentItem(checkpoint)
    with qtbot.waitSignal(panel.sig_run_over, timeout=120_000):
        panel.resume_selected()
        qtbot.waitUntil(lambda: last_step(panel) > resumed_at, timeout=120_000)  # it goes on from there
        panel.stop()
    assert f"from step-{resumed_at:07d}.pt" in panel.monitor.log.toPlainText()
    assert window._write(window.state.runs_root().parent / "project")  # the project remembers the run
    assert load_project(window.state.path).runs[-1]["task"] == "rotation"
    row = [key for key, _ in STEPS].index("embeddings")
    assert window.step_list.item(row).flags() & Qt.ItemFlag.ItemIsEnabled  # a run exists now


def test_closing_during_training_stops_it_cleanly(qtbot, no_questions, tiny_audio, tmp_path):
    win = MainWindow()
    win.state.runs_root = lambda: tmp_path / "runs"
    qtbot.addWidget(win)
    win.show()
    open_and_pick(qtbot, win, tiny_audio, "masked_spectrogram")
    win.train_panel.settings.form.set_values({"batch_size": 4})
    job = win.train_panel.start()
    qtbot.waitUntil(lambda: steps_seen(win.train_panel) >= 1, timeout=120_000)
    assert win.close()
    assert "Training is running" in no_questions
    assert not job.is_running()
    assert RunDir(win.train_panel.run_path).has_checkpoint()


def test_a_crash_in_the_worker_reaches_the_error_dialog(qtbot, window, tiny_text, monkeypatch):
    open_and_pick(qtbot, window, tiny_text, "mlm")
    shown = []
    monkeypatch.setattr("sslstudio.gui.panels.train_panel.show_error",
                        lambda parent, message, details="": shown.append((message, details)))

    def broken_prepare(request, progress=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("sslstudio.core.training.session.prepare", broken_prepare)
    with qtbot.waitSignal(window.train_panel.sig_run_over, timeout=30_000):
        window.train_panel.start()
    assert shown and shown[0][0] == "RuntimeError: disk on fire" and "broken_prepare" in shown[0][1]
    assert "disk on fire" in window.train_panel.monitor.alerts.text()
    assert window.isVisible() and window.train_panel.buttons.start_button.isEnabled()  # the app carries on


def test_after_training_map_label_evaluate_and_export(qtbot, window, tiny_images, tmp_path):
    """extract -> map -> select -> label -> the project keeps it -> the curve uses it -> a mistake opens on the map
    -> export."""
    from sslstudio.core.recipes import recommended

    open_and_pick(qtbot, window, tiny_images, "rotation")
    panel = window.train_panel
    budget = recommended("image", "cpu").train["max_minutes"]
    assert panel.settings.form.values()["max_minutes"] == budget  # a new folder starts on the recipe's budget
    panel.settings.form.set_values({"max_minutes": None, "epochs": 1, "batch_size": 8})
    # the thread stops before its 'over' signal reaches the window, which then lists the run: wait for the signal
    with qtbot.waitSignal(panel.sig_run_over, timeout=120_000):
        assert panel.start() is not None
    window.go_to_step([key for key, _ in STEPS].index("embeddings"))
    emb = window.embeddings_panel
    assert emb.picker.run_box.count() == 1
    emb.extract_and_map()
    qtbot.waitUntil(lambda: not emb.work.busy, timeout=60_000)
    assert emb.session.coords is not None and "48 samples mapped" in emb.controls.note.text()
    chosen = np.arange(0, len(emb.session.coords), 7)
    emb.scatter.select(chosen)
    emb.controls.labeller.class_box.setEditText("picked")
    emb.assign_selection()
    assert window.state.project.labels == {emb.session.samples.ids[r]: "picked" for r in chosen} and window.state.dirty
    summary = window.data_panel.summary.topLevelItem(0)  # the Data page counts them too
    assert (summary.text(0), summary.text(1)) == ("labelled in the app", str(len(chosen)))

    window.go_to_step([key for key, _ in STEPS].index("finetune"))
    tune = window.finetune_panel
    tune.curve_form.set_values({"shots": [1, 2], "seeds": [0]})
    with qtbot.waitSignal(tune.sig_evaluated, timeout=120_000):
        tune.evaluate()
    assert "picked" in tune.session.errors.classes  # the app's class takes part in the probe
    assert "raw pixels" in tune.curve.verdict.text() or "within the spread" in tune.curve.verdict.text()
    if tune.mistakes.count():
        tune.mistakes.itemClicked.emit(tune.mistakes.item(0))
        assert window.stack.currentWidget() is emb and len(emb.scatter.selected_rows()) == 1
    qtbot.waitUntil(lambda: tune.export_button.isEnabled(), timeout=10_000)
    with qtbot.waitSignal(tune.sig_exported, timeout=120_000):
        tune.export(tmp_path / "model.pt", "torchscript")
    assert (tmp_path / "model.pt").is_file()

"""Presenter mode replays a finished run on the real window: the curves grow to the run's last step, the
live outputs are the model's own at its checkpoints, and the map's time-lapse plays every checkpoint."""
import pytest
from PySide6.QtWidgets import QApplication

from sslstudio.core.training.replay import read_story
from sslstudio.core.training.session import TrainRequest, train
from sslstudio.gui.main_window import MainWindow
from sslstudio.gui.presenter import SCALE


def test_a_finished_run_is_replayed_with_its_curves_live_outputs_and_time_lapse(qtbot, no_questions, tiny_images,
                                                                                 tmp_path):
    run = tmp_path / "runs" / "rotation-demo"
    train(TrainRequest(tiny_images, run, "rotation", train_settings={"max_steps": 6, "batch_size": 8,
                                                                    "log_every": 1, "checkpoint_minutes": 0.0}))
    story = read_story(run)
    assert story.steps == [1, 2, 3, 4, 5, 6] and len(story.checkpoints) >= 2

    window = MainWindow()
    window.state.runs_root = lambda: tmp_path / "runs"
    qtbot.addWidget(window)
    window.show()
    normal_size = QApplication.font().pointSizeF()
    replay = window.present(run, seconds=1.0)
    assert window.presenter.on and window.isFullScreen() and window.presenter_action.isChecked()
    assert QApplication.font().pointSizeF() == pytest.approx(normal_size * SCALE)
    assert window.minimumSizeHint().width() <= 1280  # a laptop's screen still holds it
    with qtbot.waitSignal(replay.sig_finished, timeout=180_000):
        pass
    plots = window.train_panel.monitor.plots
    assert plots.series["loss"].view()[0].tolist() == [1, 2, 3, 4, 5, 6]  # every logged step, once
    assert window.train_panel.monitor.live.cards  # the model's outputs at a checkpoint
    assert [step for step, _ in replay.live] == [step for step, _ in story.checkpoints]
    page = window.embeddings_panel
    frames = len(story.checkpoints)
    assert len(page.session.frames) == frames and page.controls.slider.value() == frames - 1  # played to the end
    assert str(run) in [str(path) for path in window.state.run_paths()]
    assert not window.state.dirty  # the replay changed nothing of the user's: quitting asks nothing

    window.presenter.set_on(False)
    assert not window.isFullScreen() and QApplication.font().pointSizeF() == normal_size
    window.state.set_labels({"some/sample.png": "mine"})  # after the replay, a change is the user's to save
    assert window.state.dirty


def test_gui_present_opens_a_run_and_refuses_a_folder_that_is_not_one(tiny_images, tmp_path):
    import os
    import subprocess
    import sys

    run = tmp_path / "run"
    train(TrainRequest(tiny_images, run, "rotation", train_settings={"max_steps": 2, "batch_size": 8}))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "DISPLAY": ":0",
           "SSLSTUDIO_QUIT_WHEN_SHOWN": "1"}
    shown = subprocess.run([sys.executable, "-m", "sslstudio", "gui", "--present", str(run)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0 and "window shown" in shown.stdout, shown.stderr[-2000:]
    refused = subprocess.run([sys.executable, "-m", "sslstudio", "gui", "--present", str(tiny_images)], env=env,
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "not a run folder" in refused.stderr and "Traceback" not in refused.stderr

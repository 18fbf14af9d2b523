"""The Train page's settings form is TrainConfig's schema, and Start refuses settings that core refuses."""
import pytest

from sslstudio.core.training.config import TrainConfig
from sslstudio.gui.jobs import JobRunner
from sslstudio.gui.panels.train_panel import TrainPanel
from sslstudio.gui.project_state import ProjectState
from sslstudio.gui.widgets.train_settings import HIDDEN_SETTINGS, WORKBENCH_DEFAULTS


@pytest.fixture
def panel(qtbot, tiny_images, tmp_path):
    jobs = JobRunner()
    state = ProjectState.for_folder(tiny_images, "image", "mlm")
    state.runs_root = lambda: tmp_path / "runs"
    widget = TrainPanel(jobs, state)
    qtbot.addWidget(widget)
    yield widget
    jobs.cancel_all()
    jobs.wait_all()


def test_the_settings_form_is_the_train_schema_with_the_workbench_defaults(panel):
    names = [f["name"] for f in TrainConfig.schema() if f["name"] not in HIDDEN_SETTINGS]
    assert list(panel.settings.form.editors) == names and "checkpoint_minutes" in names
    values = panel.settings.form.values()
    assert values["batch_size"] == WORKBENCH_DEFAULTS["batch_size"] and values["epochs"] is None
    assert panel.settings.form.editors["epochs"].text() == "until the time budget"
    panel.settings.form.editors["epochs"].setValue(3)
    panel.settings.form.editors["max_minutes"].setValue(panel.settings.form.editors["max_minutes"].minimum())
    settings = panel.settings.values()
    assert settings["epochs"] == 3 and "max_minutes" not in settings  # no time limit: left to core's default
    TrainConfig.from_mapping(settings)


def test_start_is_refused_with_the_reason_when_task_settings_conflict(panel, tmp_path):
    panel.state.set_task("mlm", {"mask_token_share": 0.8, "random_token_share": 0.5})
    assert panel.start() is None
    assert "Not started" in panel.monitor.alerts.text() and "at most 1" in panel.monitor.alerts.text()
    assert not (tmp_path / "runs").exists() and panel.buttons.start_button.isEnabled()


def test_the_plots_reflow_with_the_width_and_a_single_value_gets_a_readable_axis(qtbot):
    from sslstudio.core.training.events import StepMetrics
    from sslstudio.gui.widgets.training_plots import TrainingPlots, columns_for

    assert [columns_for(w) for w in (1200, 800, 500)] == [3, 2, 1]
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(700, 600)
    plots.show()
    qtbot.waitUntil(lambda: plots.columns == 2, timeout=2000)
    plots.add_events([StepMetrics(5, 0, 100, 1.383329153060917, 1e-3, 50.0, 10.0, 0.0)])
    plots.redraw()
    low, high = plots.plots["loss"].getViewBox().viewRange()[1]
    assert low < 1.38 < 1.39 < high and high - low > 0.2  # ticks of a tenth, not of 1e-15
    assert plots.knn_note.isVisible()  # no labels, no kNN: said inside the plot, not in a clipped title


def test_paused_the_bar_says_paused_without_an_eta_even_for_a_step_that_ends_after_the_click(qtbot):
    from sslstudio.core.training.events import StepMetrics
    from sslstudio.gui.widgets.run_monitor import RunMonitor

    monitor = RunMonitor()
    qtbot.addWidget(monitor)
    monitor.started("new run", "image")
    monitor.show_events([StepMetrics(30, 0, 100, 1.2, 1e-3, 50.0, 75.0, 0.0)])
    assert "ETA 1:15" in monitor.progress.format() and "images/s" in monitor.progress.format()
    monitor.set_paused(True)
    monitor.show_events([StepMetrics(31, 0, 100, 1.1, 1e-3, 50.0, 74.0, 0.0)])  # the step under way at the click
    assert monitor.progress.format().startswith("paused at step 31") and "ETA" not in monitor.progress.format()
    monitor.set_paused(False)
    assert "ETA 1:14" in monitor.progress.format()


def test_the_run_row_says_running_or_paused_and_agrees_with_its_newest_checkpoint(qtbot, tiny_images, tmp_path):
    from sslstudio.core.training.run_dir import RunDir
    from sslstudio.core.training.session import TrainRequest, train
    from sslstudio.gui.widgets.runs_tree import RunsTree

    run = tmp_path / "run"
    train(TrainRequest(tiny_images, run, "rotation", train_settings={"max_steps": 7, "batch_size": 8,
                                                                      "log_every": 5}))
    RunDir(run).drop_metrics_after(5)  # as a time budget or Stop leaves it: steps 6 and 7 trained, not logged
    tree = RunsTree()
    qtbot.addWidget(tree)
    tree.show_runs([run])
    row = tree.topLevelItem(0)
    assert row.text(1) == "7" and row.child(0).text(1) == "7"  # the row and its newest checkpoint agree
    tree.show_runs([run], running=run)
    tree.set_paused(True)
    assert tree.topLevelItem(0).text(1) == "7 (paused)"
    tree.set_paused(False)
    tree.show_step(8)
    assert tree.topLevelItem(0).text(1) == "8 (running)"


def test_the_knn_plot_says_a_labelled_folder_will_be_measured_and_the_speed_counts_its_noun(qtbot, no_questions,
                                                                                           tiny_images, tiny_text):
    from sslstudio.gui.main_window import MainWindow
    from sslstudio.gui.widgets.training_plots import KNN_NEEDS_LABELS

    window = MainWindow()
    qtbot.addWidget(window)
    plots = window.train_panel.monitor.plots
    with qtbot.waitSignal(window.data_panel.sig_folder_ready, timeout=30_000):
        window.data_panel.open_folder(tiny_images)  # four class folders
    assert plots.knn_note.toPlainText() != KNN_NEEDS_LABELS
    window.train_panel.monitor.started("new run", "image")
    assert plots.plots["speed"].titleLabel.text == "images/s"
    with qtbot.waitSignal(window.data_panel.sig_folder_ready, timeout=30_000):
        window.data_panel.open_folder(tiny_text)
    window.data_panel.cancel_scan()
    qtbot.waitUntil(lambda: window.data_panel.check_job is None, timeout=30_000)
    labelled = len(set(window.data_panel.scan.labels_of("text")) - {None}) >= 2
    assert (plots.knn_note.toPlainText() == KNN_NEEDS_LABELS) != labelled


def test_the_picked_run_shows_its_folder_to_copy_and_open(panel, qtbot, tiny_images, tmp_path, monkeypatch):
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QApplication

    from sslstudio.core.training.session import TrainRequest, train

    run = tmp_path / "runs" / "rotation-first"
    train(TrainRequest(tiny_images, run, "rotation", train_settings={"max_steps": 2, "batch_size": 8}))
    panel.state.add_run(run, "rotation")
    folder = panel.monitor.folder
    assert not folder.copy_button.isEnabled()  # nothing picked yet
    panel.runs.setCurrentItem(panel.runs.topLevelItem(0))
    assert folder.label.full_text().endswith("rotation-first") and folder.copy_button.isEnabled()
    folder.copy_button.click()
    assert QApplication.clipboard().text() == str(run.resolve())
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)  # no file manager here
    folder.open_button.click()
    assert opened == [QUrl.fromLocalFile(str(run.resolve()))]


def test_a_budget_shorter_than_one_pass_is_said_before_start(qtbot, tiny_images, tmp_path):
    from sslstudio.core.training.session import TrainRequest, train
    from sslstudio.gui.widgets.train_settings import recent_speed

    jobs = JobRunner()
    state = ProjectState.for_folder(tiny_images, "image", "rotation")
    state.runs_root = lambda: tmp_path / "runs"
    panel = TrainPanel(jobs, state)
    qtbot.addWidget(panel)
    panel.set_folder_size(48)
    form = panel.settings.form
    form.set_values({"max_minutes": None, "max_steps": 2, "batch_size": 8})
    form.sig_changed.emit(form.values())
    assert ("Short budget: the limit of 2 steps trains about 2 steps of 8, 33% of one pass over the 48 images"
            in panel.monitor.alerts.text())
    form.editors["max_steps"].setValue(6)  # 6 x 8 = one whole pass: nothing to say
    assert "Short budget" not in panel.monitor.alerts.text()

    run = tmp_path / "runs" / "rotation-earlier"  # an earlier run of this task on this folder says how fast it goes
    train(TrainRequest(tiny_images, run, "rotation", train_settings={"max_steps": 4, "batch_size": 8,
                                                                      "log_every": 2}))
    state.add_run(run, "rotation")
    panel.set_folder_size(1_000_000)  # more than 0.6 s covers at any speed this machine has
    form.editors["max_steps"].setValue(form.editors["max_steps"].minimum())  # no step limit
    form.editors["max_minutes"].setValue(0.01)  # 0.6 s
    text = panel.monitor.alerts.text()
    assert f"at about {recent_speed(run):.0f} images/s (measured in rotation-earlier), the 0.01-min budget" in text
    assert "of one pass over the 1,000,000 images" in text
    jobs.cancel_all()
    jobs.wait_all()


def test_a_narrow_bar_keeps_the_step_and_the_eta_and_drops_the_speed_then_the_loss(qtbot):
    from sslstudio.core.training.events import StepMetrics
    from sslstudio.gui.widgets.run_monitor import RunMonitor

    monitor = RunMonitor()
    qtbot.addWidget(monitor)
    monitor.resize(900, 400)
    monitor.show()
    monitor.started("new run", "image")
    step = StepMetrics(30, 0, 100, 1.2, 1e-3, 50.0, 75.0, 0.0)
    monitor.show_events([step])
    assert monitor.progress.format() == "step 30 / 100 · loss 1.2000 · 50 images/s · ETA 1:15"
    monitor.progress.setFixedWidth(monitor.progress.fontMetrics().horizontalAdvance("step 30 / 100 · ETA 1:15") + 40)
    monitor.show_events([step])
    assert monitor.progress.format() == "step 30 / 100 · ETA 1:15"  # large type on a laptop: nothing cut

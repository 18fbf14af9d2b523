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

"""The Fine-tune step on a real run: evaluate -> curve and errors -> suggestions -> label them -> export."""
import json

import numpy as np
import pytest

from sslstudio.core.training.session import TrainRequest, train
from sslstudio.gui.jobs import JobRunner
from sslstudio.gui.panels.finetune_panel import FinetunePanel
from sslstudio.gui.project_state import ProjectState


@pytest.fixture
def panel(qtbot, tiny_images, tmp_path):
    run = tmp_path / "run"
    train(TrainRequest(tiny_images, run, "rotation", train_settings={"max_steps": 3, "batch_size": 8}))
    jobs = JobRunner()
    widget = FinetunePanel(jobs, ProjectState.for_folder(tiny_images, "image", runs=[run]))
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    yield widget
    assert jobs.wait_all(30_000)


def test_evaluate_suggest_label_and_export(qtbot, panel, tmp_path):
    panel.curve_form.editors["shots"].setText("1 -3")  # refused with core's reason, nothing starts
    panel.evaluate()
    assert "Not evaluated: setting 'shots' must be in [0, 1000000]; got -3" in panel.status.text()
    assert not panel.work.busy
    panel.curve_form.set_values({"shots": [1, 3, 0], "seeds": [0, 1]})
    with qtbot.waitSignal(panel.sig_evaluated, timeout=120_000):
        panel.evaluate()
    curve = panel.session.curve
    assert curve.shots == [1, 3, 0] and set(curve.mean) == {"ssl", "random_init", "raw"}
    assert len(panel.curve.plot.getPlotItem().listDataItems()) == 3  # one line per feature set
    classes = panel.session.errors.classes
    assert panel.confusion.rowCount() == len(classes) == 4
    counted = sum(int(panel.confusion.item(i, j).text()) for i in range(4) for j in range(4))
    assert counted == curve.n_test
    assert panel.mistakes.count() == len(panel.session.errors.misclassified)

    # Label these next: forget some folder labels so there is something to suggest.
    panel.session.samples.labels[:10] = [None] * 10
    qtbot.waitUntil(lambda: panel.suggest_button.isEnabled(), timeout=10_000)
    panel.suggest()
    qtbot.waitUntil(lambda: panel.suggestions.count() > 0 and not panel.work.busy, timeout=30_000)
    suggested = [panel.suggestions.item(i).data(256) for i in range(panel.suggestions.count())]
    assert set(suggested) == set(range(10))  # exactly the unlabelled ones, there being fewer than 24
    for i in range(3):
        panel.suggestions.item(i).setSelected(True)
    panel.class_box.setEditText(classes[0])
    with qtbot.waitSignal(panel.state.sig_labels_changed):
        panel.label_chosen()
    assert len(panel.state.labels) == 3 and set(panel.state.labels.values()) == {classes[0]}

    qtbot.waitUntil(lambda: panel.evaluate_button.isEnabled(), timeout=10_000)
    with qtbot.waitSignal(panel.sig_evaluated, timeout=120_000):
        panel.evaluate()  # again, on the cached features, now with the three new labels
    assert len(panel.session.rows) == 48 - 10 + 3  # the three labelled suggestions joined the labelled set

    qtbot.waitUntil(lambda: panel.export_button.isEnabled(), timeout=10_000)
    with qtbot.waitSignal(panel.sig_exported, timeout=120_000):
        panel.export(tmp_path / "model.onnx", "onnx")
    assert (tmp_path / "model.onnx").is_file() and "top-1 agreement 100.0%" in panel.status.text()
    info = json.loads((tmp_path / "model.onnx.json").read_text())
    assert info["classes"] == classes and np.isfinite(curve.mean["ssl"]).all()


def test_evaluation_names_its_phases_draws_points_as_they_come_and_cancel_keeps_them(qtbot, panel):
    from sslstudio.core.progress import Phase

    panel.curve_form.set_values({"shots": [1, 2, 3, 0], "seeds": [0, 1, 2]})
    phases, points, statuses = [], [], []
    with qtbot.waitSignal(panel.sig_evaluated, timeout=120_000):
        panel.evaluate()
        panel.work.job.sig_partial.connect(
            lambda value: phases.append(value.name) if isinstance(value, Phase) else points.append(value.shots))
        panel.work.job.sig_progress.connect(lambda *_: statuses.append(panel.status.text()))
        assert panel.cancel_button.isEnabled() and panel.progress.isVisible()
    assert phases == ["loading the run", "decoding", "embedding with the run", "embedding with a random-init copy",
                      "raw inputs", "reducing wide features", "fitting probes"]
    assert points == [[1], [1, 2], [1, 2, 3]]  # "all labels", the dearest point, ends the evaluation
    assert any(text.startswith("evaluating: fitting probes, ") and "%" in text for text in statuses)
    qtbot.waitUntil(lambda: not panel.work.busy, timeout=10_000)
    assert not panel.cancel_button.isEnabled() and not panel.progress.isVisible()

    # Evaluate again with many seeds, and cancel once the first point is drawn: it stays on the plot.
    panel.curve_form.set_values({"shots": [1, 2, 3, 0], "seeds": list(range(40))})
    drawn = []
    panel.evaluate()
    job = panel.work.job
    job.sig_partial.connect(lambda value: drawn.append(value) if not isinstance(value, Phase) else None)
    qtbot.waitUntil(lambda: len(drawn) >= 1, timeout=60_000)
    with qtbot.waitSignal(job.sig_cancelled, timeout=30_000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.evaluate_button.isEnabled(), timeout=10_000)
    assert panel.status.text() == "Cancelled."
    assert len(panel.curve.plot.getPlotItem().listDataItems()) == 3  # the points measured before the cancel
    assert panel.session.curve.shots == [1, 2, 3, 0]  # the last whole evaluation is what the session keeps


def test_quitting_during_an_evaluation_closes_the_window_at_once_and_says_what_it_stopped(
        qtbot, no_questions, tiny_images, tmp_path, capfd):
    import time

    from PySide6.QtCore import QEvent, QObject

    from sslstudio.core.progress import Phase
    from sslstudio.gui.main_window import MainWindow

    run = tmp_path / "run"
    train(TrainRequest(tiny_images, run, "rotation", train_settings={"max_steps": 2, "batch_size": 8}))
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.state.set_folder(str(tiny_images), "image")
    win.state.add_run(run, "rotation")
    panel = win.finetune_panel
    panel.curve_form.set_values({"shots": [1, 2, 3, 0], "seeds": list(range(200))})  # minutes of fits
    panel.evaluate()
    phases = []
    panel.work.job.sig_partial.connect(lambda value: phases.append(value.name) if isinstance(value, Phase) else None)
    qtbot.waitUntil(lambda: "fitting probes" in phases, timeout=120_000)

    class HideClock(QObject):
        hidden_at = None

        def eventFilter(self, watched, event):  # noqa: N802 (Qt)
            if event.type() == QEvent.Type.Hide and self.hidden_at is None:
                self.hidden_at = time.monotonic()
            return False

    clock = HideClock()
    win.installEventFilter(clock)
    asked_at = time.monotonic()
    assert win.close()
    assert clock.hidden_at is not None and clock.hidden_at - asked_at < 2.0  # before any job is waited for
    assert win.stopped_on_quit == ["evaluating"] and not any(job.is_running() for job in win.jobs.jobs)
    assert "sslstudio: stopped evaluating" in capfd.readouterr().err

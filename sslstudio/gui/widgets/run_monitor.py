"""A training run as it goes: the progress bar, the alert line, and tabs for the curves, the live outputs and
the log. Self-contained like the scatter and thumbnail widgets: events and text come in through methods,
nothing is read from a page or the project.

The bar follows whichever budget governs, steps or time; the speed counts samples (images, clips, texts),
with the views the model sees in the tooltip. The alert line keeps one line per kind of alert, updated with
its latest numbers. The plots are built on first use, or once the window is up, not while it opens.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QProgressBar, QTabWidget, QVBoxLayout, QWidget

from sslstudio.core.errors import RunError
from sslstudio.core.progress import duration
from sslstudio.core.training.alerts import alerts_for
from sslstudio.core.training.events import SAMPLE_NOUN, CheckpointSaved, StepMetrics, TrainingFailed
from sslstudio.core.training.run_dir import RunDir
from sslstudio.gui.widgets.preview_grid import PreviewGrid
from sslstudio.gui.widgets.run_folder import RunFolder
from sslstudio.gui.widgets.training_plots import TrainingPlots

PROGRESS_SCALE = 1000  # the bar shows the share of the budget used, in thousandths


class RunMonitor(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.progress = QProgressBar()
        self.progress.setFormat("not started")
        self.alerts = QLabel(wordWrap=True, styleSheet="color: #b05000;")
        self.folder = RunFolder()  # the shown run's folder, to open or to copy for the CLI
        self._plots: TrainingPlots | None = None
        self.live = PreviewGrid()
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(5000)
        self.tabs = QTabWidget()
        self.tabs.addTab(QLabel("Curves appear once a run starts or one is picked from the list."), "Curves")
        self.tabs.addTab(self.live, "Live outputs")
        self.tabs.addTab(self.log, "Log")
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.alerts)
        layout.addWidget(self.folder)
        layout.addWidget(self.tabs, 1)
        self.noun = "samples"
        self.paused = False
        self.labelled = False  # the folder has labelled class folders: the online kNN will be measured
        self._last_step: StepMetrics | None = None

    @property
    def plots(self) -> TrainingPlots:
        return self.build_plots()

    @Slot()
    def build_plots(self) -> TrainingPlots:
        if self._plots is None:
            self._plots = TrainingPlots()
            self._plots.set_labelled(self.labelled)
            self._plots.set_noun(self.noun)
            current = self.tabs.currentIndex()
            self.tabs.removeTab(0)
            self.tabs.insertTab(0, self._plots, "Curves")
            self.tabs.setCurrentIndex(current)
        return self._plots

    def set_labelled(self, labelled: bool) -> None:
        self.labelled = labelled
        if self._plots is not None:
            self._plots.set_labelled(labelled)

    # ---------------------------------------------------------------- a run
    def show_run(self, run) -> None:
        """Draw a run's logged curves from its folder."""
        run_dir = RunDir(run)
        self.folder.show_run(run)
        try:
            self.noun = SAMPLE_NOUN.get(run_dir.read_config().get("modality"), "samples")
        except RunError:  # still starting, or damaged: its curves show all the same
            pass
        self.plots.set_noun(self.noun)
        self.plots.load_records(run_dir.read_metrics())

    def overlay_runs(self, ticked: list) -> None:
        """Draw these (name, run folder) runs' curves over the shown one, for comparison."""
        self.plots.clear_overlays()
        for name, run in ticked:
            self.plots.overlay(name, RunDir(run).read_metrics())

    def started(self, message: str, modality: str | None) -> None:
        self.noun = SAMPLE_NOUN.get(modality, "samples")
        self.plots.set_noun(self.noun)
        self.paused, self._last_step = False, None
        self.alerts.clear()
        self.live.show_samples([], "Live outputs appear a few seconds into training.")
        self.say(message)
        self.progress.setRange(0, 0)
        self.progress.setFormat("loading data …")

    def refused(self, reason: str) -> None:
        """Start was refused: the reason stays in the alert line until a run starts."""
        self.alerts.setText(f"⚠ Not started: {reason}")
        self.say(f"not started: {reason}")

    def show_events(self, events: list) -> None:
        self.plots.add_events(events)
        for event in events:
            if isinstance(event, StepMetrics):
                self._show_step(event)
            elif isinstance(event, CheckpointSaved):
                self.say(f"checkpoint saved at step {event.step}")
            for alert in alerts_for(event):
                self.alert(alert)

    def set_paused(self, paused: bool) -> None:
        """Paused: the bar says so and drops the ETA, which no longer runs; a step that ends after the
        click (the loop pauses between two steps) keeps it so."""
        self.paused = paused
        if self._last_step is not None:
            self._show_step(self._last_step)
        elif paused:
            self.progress.setFormat("paused")

    def _show_step(self, event: StepMetrics) -> None:
        self._last_step = event
        self.progress.setRange(0, PROGRESS_SCALE)
        self.progress.setValue(round(event.progress * PROGRESS_SCALE))
        of_total = f" / {event.total_steps}" if event.total_steps is not None else ""
        loss = f"loss {event.loss:.4f}"
        if self.paused:
            self._say_on_bar([f"paused at step {event.step}{of_total}", loss], droppable=1)
            return
        eta = [f"ETA {duration(event.eta_s)}"] if event.eta_s != float("inf") else []
        self._say_on_bar([f"step {event.step}{of_total}", loss, f"{event.samples_per_s:.0f} {self.noun}/s", *eta],
                         droppable=2)
        self.progress.setToolTip(f"{event.views_per_s:.0f} views/s: the inputs the model sees, several per sample "
                                 f"for tasks that make views")

    def _say_on_bar(self, parts: list[str], droppable: int) -> None:
        """The parts that fit the bar on one line (large type, a narrow page): the step and the ETA stay, the
        `droppable` parts after the first go first, the speed before the loss."""
        room = self.progress.contentsRect().width() - 12 if self.progress.isVisible() else float("inf")
        for drop in range(droppable + 1):
            kept = [part for n, part in enumerate(parts) if not 1 + droppable - drop <= n <= droppable]
            text = " · ".join(kept)
            if self.progress.fontMetrics().horizontalAdvance(text) <= room:
                break
        self.progress.setFormat(text)

    def show_end(self, result) -> None:
        """The run's end, TrainingFinished or TrainingFailed, in the log and on the bar."""
        if isinstance(result, TrainingFailed):
            self.alert(result.message)
            self.say(f"failed: {result.message}")
            if result.traceback:
                self.log.appendPlainText(result.traceback)
            return
        setup = f" (and {duration(result.setup_seconds)} of set-up)" if result.setup_seconds >= 1 else ""
        self.say(f"{result.reason} at step {result.step} after {duration(result.seconds)}{setup}")
        if result.reason != "cancelled":  # a time budget ends the run before its epoch count
            self.progress.setValue(self.progress.maximum())
        self.progress.setFormat(f"{result.reason} at step {result.step} after {duration(result.seconds)}")

    def over(self) -> None:
        self.paused = False
        if self.progress.maximum() == 0:  # ended before its first step
            self.progress.setRange(0, 1)
            self.progress.setFormat("not started")

    def alert(self, text: str) -> None:
        key = text.split(":")[0]  # one line per kind of alert, updated with the latest numbers
        lines = [line for line in self.alerts.text().split("\n") if line and not line.startswith(f"⚠ {key}")]
        self.alerts.setText("\n".join([*lines, f"⚠ {text}"]))

    def drop_alert(self, key: str) -> None:
        """Remove the line of one kind of alert (its cause went away)."""
        self.alerts.setText("\n".join(line for line in self.alerts.text().split("\n")
                                      if line and not line.startswith(f"⚠ {key}")))

    def say(self, text: str) -> None:
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")


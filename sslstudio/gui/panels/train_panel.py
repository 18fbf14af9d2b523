"""The Train step: settings, start/pause/resume/stop, live curves and outputs, alerts, runs and checkpoints."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from sslstudio.core.errors import UserError
from sslstudio.core.training.events import (
    SAMPLE_NOUN,
    CheckpointSaved,
    StepMetrics,
    TrainingFailed,
    TrainingFinished,
)
from sslstudio.core.training.run_dir import RunDir
from sslstudio.gui.errors import show_error
from sslstudio.gui.jobs import Job, JobRunner
from sslstudio.gui.project_state import ProjectState
from sslstudio.gui.training_work import Events, LiveOutputs, LogLine, TrainingWork
from sslstudio.gui.widgets.run_buttons import RunButtons
from sslstudio.gui.widgets.run_monitor import RunMonitor
from sslstudio.gui.widgets.runs_tree import RunsTree
from sslstudio.gui.widgets.train_settings import (
    SHORT_BUDGET,
    TrainSettings,
    device_and_backbone_choices,
    one_pass_warning,
    recent_speed,
)


class TrainPanel(QWidget):
    sig_run_started = Signal(str, str)
    """A run began: (run folder, task)."""
    sig_run_over = Signal(str)
    """A run ended, finished, stopped or failed: its folder."""
    sig_state = Signal(str)
    """A short word for the status bar: running, paused or idle."""

    def __init__(self, jobs: JobRunner, state: ProjectState, parent: QWidget | None = None):
        super().__init__(parent)
        self.jobs = jobs
        self.state = state
        self.job: Job | None = None
        self.run_path: Path | None = None
        self._choices_for: str | None = None  # the modality the device and backbone lists were made for
        self.folder_size = 0  # samples in the folder: what one pass over it trains on
        self._build()
        for signal in (state.sig_folder_changed, state.sig_task_changed):
            signal.connect(self._on_context)
        state.sig_runs_changed.connect(self.show_runs)
        for signal in (state.sig_runs_changed, state.sig_task_changed, self.settings.form.sig_changed):
            signal.connect(lambda *_: self.warn_short_budget())
        self._on_context()
        self.show_runs()

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self.settings = TrainSettings()  # device, backbone and the training form
        self.monitor = RunMonitor()  # progress, alerts, curves, live outputs and log
        self.buttons = RunButtons()
        self.buttons.sig_start.connect(self.start)
        self.buttons.sig_pause.connect(self.toggle_pause)
        self.buttons.sig_stop.connect(self.stop)
        self.runs = RunsTree()
        self.runs.sig_run_chosen.connect(self._on_run_chosen)
        self.runs.sig_ticked_changed.connect(self.monitor.overlay_runs)
        self.resume_button = QPushButton("Resume from selected checkpoint")
        self.resume_button.clicked.connect(self.resume_selected)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.settings)
        left_layout.addWidget(self.buttons)
        left_layout.addWidget(QLabel("<b>Runs and checkpoints</b>"))
        left_layout.addWidget(self.runs, 1)
        left_layout.addWidget(self.resume_button)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.monitor)
        splitter.setSizes([330, 950])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._update_buttons()

    # ---------------------------------------------------------------- context
    def ready(self) -> bool:
        project = self.state.project
        return bool(project.folder and project.modality and project.task)

    @Slot()
    def _on_context(self) -> None:
        modality = self.state.modality
        if modality and modality != self._choices_for:
            self._choices_for = modality
            job = self.jobs.start("listing devices", lambda _state: device_and_backbone_choices(modality), self)
            job.sig_done.connect(self.settings.fill_choices)
        self._update_buttons()

    @Slot()
    def show_runs(self) -> None:
        self.runs.show_runs(self.state.run_paths(), self.run_path if self.is_running() else None)

    def set_folder_size(self, samples: int) -> None:
        self.folder_size = samples
        self.warn_short_budget()

    def warn_short_budget(self, speed: float | None = None, measured_in: str = "") -> None:
        """Before Start (and as a run reports its speed): say when the settings stop before one pass over the
        folder, with the speed of the newest run of this task on this folder, or of the run under way."""
        if self.is_running() and speed is None:
            return
        if self.state.folder is None or not self.folder_size:
            self.monitor.drop_alert(SHORT_BUDGET)
            return
        if speed is None:
            speed, measured_in = self._measured_speed()
        noun = SAMPLE_NOUN.get(self.state.modality, "samples")
        warning = one_pass_warning(self.settings.values(), self.folder_size, noun, speed, measured_in)
        if warning:
            self.monitor.alert(warning)
        else:
            self.monitor.drop_alert(SHORT_BUDGET)

    def _measured_speed(self) -> tuple[float | None, str]:
        project = self.state.project
        for run in reversed(self.state.run_paths()):
            try:
                config = RunDir(run).read_config()
            except UserError:
                continue
            folder = config.get("data", {}).get("folder")
            if config.get("task") == project.task and folder and Path(folder).resolve() == self.state.folder.resolve():
                speed = recent_speed(run)
                if speed:
                    return speed, f"measured in {Path(run).name}"
        return None, ""

    @Slot(object)
    def apply_recipe(self, recipe) -> None:
        """Show a recommended recipe's budget and settings; a new run of its task records the recipe (and takes
        its backbone while the backbone is automatic)."""
        self.settings.apply_recipe(recipe)
        self.monitor.say(f"recipe {recipe.name}: {recipe.summary()}")

    # ---------------------------------------------------------------- running
    @Slot()
    def start(self) -> Job | None:
        from sslstudio.core.training.session import TrainRequest  # loads torch

        if not self.ready() or self.is_running():
            return None
        project = self.state.project
        run = self.state.runs_root() / f"{project.task}-{time.strftime('%Y%m%d-%H%M%S')}"
        request = TrainRequest(self.state.folder, run, project.task, project.task_args,
                               backbone=self.settings.backbone(), inputs=project.inputs,
                               train_settings=self.settings.values(), device=self.settings.device(),
                               cpu_cores_free=1, recipe=self.settings.recipe_for(project.task))
        try:
            request.check()
        except UserError as error:
            self.monitor.refused(str(error))
            return None
        self.monitor.plots.clear()
        return self._launch(request, f"new run {run.name}")

    @Slot()
    def resume_selected(self) -> Job | None:
        from sslstudio.core.training.session import TrainRequest  # loads torch

        chosen = self.runs.chosen()
        if chosen is None or not self.ready() or self.is_running():
            return None
        run, checkpoint = chosen
        settings = {k: v for k, v in self.settings.values().items() if k in ("epochs", "max_minutes")}
        request = TrainRequest(self.state.folder, run, resume=True, resume_from=checkpoint,
                               train_settings=settings, device=self.settings.device(),
                               cpu_cores_free=1)

        self.monitor.show_run(run)
        return self._launch(request, f"resuming {run.name}" + (f" from {Path(checkpoint).name}" if checkpoint else ""))

    def _launch(self, request, message: str) -> Job:
        self.run_path = Path(request.out)
        self.runs.set_paused(False)
        self.monitor.started(message, self.state.modality)
        self.monitor.folder.show_run(self.run_path)
        self.job = self.jobs.start("training", TrainingWork(request), self)
        self.job.sig_partial.connect(self._on_partial)
        self.job.sig_failed.connect(self._on_crashed)
        self.job.sig_over.connect(self._on_over)
        if not request.resume:
            self.state.add_run(request.out, request.task)  # listed at once, before its first checkpoint
        else:
            self.show_runs()
        self.sig_run_started.emit(str(request.out), request.task or "")
        self._update_buttons()
        self.sig_state.emit("running")
        return self.job

    @Slot()
    def toggle_pause(self) -> None:
        if not self.is_running():
            return
        paused = not self.job.paused
        if paused:
            self.job.pause()
            self.monitor.say("paused (between two steps)")
        else:
            self.job.resume()
            self.monitor.say("resumed")
        self.monitor.set_paused(paused)
        self.runs.set_paused(paused)
        self.sig_state.emit("paused" if paused else "running")
        self._update_buttons()

    @Slot()
    def stop(self) -> None:
        if self.is_running():
            self.job.cancel()
            self.monitor.say("stopping after the current step …")

    def is_running(self) -> bool:
        return self.job is not None and self.job.is_running()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt)
        """The plots are built when the page first shows (about 50 ms), not on Start while a run begins."""
        super().showEvent(event)
        self.monitor.build_plots()

    def shutdown(self, wait_ms: int = 120_000) -> bool:
        if self.job is None:
            return True
        self.job.cancel()
        return self.job.wait(wait_ms)

    # ---------------------------------------------------------------- events
    @Slot(object)
    def _on_partial(self, part) -> None:
        if isinstance(part, LiveOutputs):
            self.monitor.live.show_samples(part.samples)
        elif isinstance(part, LogLine):
            self.monitor.say(part.text)
        elif isinstance(part, Events):
            self.monitor.show_events(part.events)
            for event in part.events:
                if isinstance(event, StepMetrics):
                    self.runs.show_step(event.step)
                    self.warn_short_budget(event.samples_per_s, "measured in this run")
                elif isinstance(event, CheckpointSaved):
                    self.state.runs_updated()  # the new checkpoint can be resumed from, and mapped
                elif isinstance(event, TrainingFinished | TrainingFailed):
                    self.monitor.show_end(event)

    @Slot(str, str)
    def _on_crashed(self, message: str, details: str) -> None:
        self.monitor.say(f"error: {message}")
        self.monitor.alert(f"training stopped by an error: {message}")
        show_error(self, message, details)

    @Slot()
    def _on_over(self) -> None:
        self.monitor.over()
        self._update_buttons()
        self.sig_state.emit("idle")
        self.state.runs_updated()
        self.sig_run_over.emit(str(self.run_path) if self.run_path else "")

    def _update_buttons(self) -> None:
        running, ready = self.is_running(), self.ready()
        self.buttons.show_state(ready, running, running and self.job.paused)
        self.resume_button.setEnabled(ready and not running)
        self.settings.setEnabled(not running)

    # ---------------------------------------------------------------- runs
    @Slot(str)
    def _on_run_chosen(self, run: str) -> None:
        if not self.is_running():
            self.monitor.show_run(run)


if __name__ == "__main__":  # a manual look: python -m sslstudio.gui.panels.train_panel [FOLDER] [TASK]
    import tempfile

    from sslstudio.gui.panels import run_panel_alone, scanned

    def make(jobs, args):
        folder, modality, _ = scanned(args[:1])
        quick = {"image": "rotation", "audio": "masked_spectrogram", "text": "mlm"}
        task = args[1] if len(args) > 1 else quick[modality]
        state = ProjectState.for_folder(folder, modality, task)
        runs = Path(tempfile.mkdtemp(prefix="sslstudio-runs-"))
        state.runs_root = lambda: runs
        return TrainPanel(jobs, state)

    run_panel_alone(make)

"""Presenter mode, for a talk from a laptop: large type, high contrast, full screen, and a finished run told
again at a chosen speed.

The replay (RunReplay) opens the run's folder, then on the Train page grows the run's curves step by step and
changes the live outputs as it passes each kept checkpoint (each computed once, in the background, from that
checkpoint); at the end the Embeddings page maps the samples and plays the time-lapse of every checkpoint.
The whole story shows without a GPU and without waiting for training.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication

from sslstudio.core.training.replay import live_outputs_by_checkpoint, read_story
from sslstudio.core.training.run_dir import RunDir

SCALE = 1.3  # type size against the desktop's: larger, and the window still fits a 1280 x 720 screen
PRESENTER_STYLE = """
QWidget { background: #101010; color: #ffffff; }
QPushButton, QComboBox, QSpinBox, QDoubleSpinBox, QLineEdit { background: #2a2a2a; border: 2px solid #ffffff;
    padding: 4px; }
QListWidget#steps::item:selected, QTabBar::tab:selected { background: #ffd400; color: #000000; }
*:disabled { color: #808080; border-color: #505050; }
QProgressBar { border: 2px solid #ffffff; text-align: center; }
QProgressBar::chunk { background: #0a64c8; }
"""
TICK_MS = 50
FRAME_MS = 900  # one checkpoint of the time-lapse


def _points(font: QFont) -> float:
    """A font's size in points, also for one set in pixels (as on some X servers), at 96 dpi."""
    return font.pointSizeF() if font.pointSizeF() > 0 else font.pixelSize() * 0.75


class Presenter(QObject):
    """Turns presenter mode on and off for a window (its look only; the pages keep their state)."""

    sig_changed = Signal(bool)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.on = False
        self._font: QFont | None = None
        self._steps_style = ""
        QShortcut(QKeySequence("Escape"), window, lambda: self.set_on(False))

    @Slot(bool)
    def set_on(self, on: bool) -> None:
        if on == self.on:
            return
        self.on = on
        app = QApplication.instance()
        steps = self.window.step_list
        if on:
            self._font, self._steps_style = app.font(), steps.styleSheet()
            size = _points(self._font) * SCALE
            bigger = QFont(self._font)
            bigger.setPointSizeF(size)
            app.setFont(bigger)
            # A style sheet's font wins over the application's for the widgets it styles, so it says the size too.
            self.window.setStyleSheet(f"* {{ font-size: {size:.0f}pt; }}" + PRESENTER_STYLE)
            steps.setStyleSheet(f"QListWidget#steps {{ font-size: {size * 1.2:.0f}pt; }} "
                                "QListWidget#steps::item { padding: 14px 8px; }")
            steps.setFixedWidth(round(steps.width() * SCALE))
            self.window.showFullScreen()
        else:
            app.setFont(self._font)
            self.window.setStyleSheet("")
            steps.setStyleSheet(self._steps_style)
            steps.setFixedWidth(round(steps.width() / SCALE))
            self.window.showNormal()
        self.window.train_panel.monitor.plots.set_large(on)
        self.sig_changed.emit(on)


class RunReplay(QObject):
    """Plays a finished run on the window in about `seconds`, then its map's time-lapse."""

    sig_finished = Signal()

    def __init__(self, window, run: str | Path, seconds: float = 30.0):
        super().__init__(window)
        self.window, self.run = window, Path(run)
        self.story = read_story(run)  # the metrics file only: quick, and a plain error for a folder that is no run
        ticks = max(1.0, seconds * 1000 / TICK_MS)
        self.steps_per_tick = max(1, round(self.story.last_step / ticks))
        self.shown = 0
        self.live: list[tuple[int, list]] = []
        self.timer = QTimer(self, interval=TICK_MS, timeout=self._tick)
        self.frame_timer = QTimer(self, interval=FRAME_MS, timeout=self._next_frame)

    def start(self) -> None:
        """Open the run's folder (its project), then play."""
        config = RunDir(self.run).read_config()
        state, data = self.window.state, self.window.data_panel
        state.replaying = True  # quitting after a replay does not ask to save a project the user never touched
        # Once it ends, or the presenter leaves before its end, what the user changes is theirs to save again.
        self.sig_finished.connect(lambda: setattr(state, "replaying", False))
        self.window.presenter.sig_changed.connect(lambda on: on or setattr(state, "replaying", False))

        def on_folder(_folder: str, _modality: str) -> None:
            data.sig_folder_ready.disconnect(on_folder)
            if str(self.run) not in [str(path) for path in state.run_paths()]:
                state.add_run(self.run, config["task"])
            self._play_curves(config["modality"])

        data.sig_folder_ready.connect(on_folder)
        state.set_task(config["task"], config["task_args"])  # the Task page shows the run's task, Train opens
        data.open_folder(Path(config["data"]["folder"]), config["modality"])

    def _play_curves(self, modality: str) -> None:
        monitor = self.window.train_panel.monitor
        self.window.go_to_step(2)
        monitor.plots.clear()
        monitor.started(f"replaying {self.run.name}: {self.story.last_step} steps", modality)
        monitor.tabs.setCurrentIndex(0)
        job = self.window.jobs.start("preparing the replay", lambda state: live_outputs_by_checkpoint(self.story,
                                                                                                    state), self)
        job.sig_done.connect(self._on_live_outputs)
        self.timer.start()

    @Slot(object)
    def _on_live_outputs(self, live: list) -> None:
        self.live = live
        passed = [samples for step, samples in live if step <= self.shown]
        if passed:
            self.window.train_panel.monitor.live.show_samples(passed[-1])

    @Slot()
    def _tick(self) -> None:
        monitor = self.window.train_panel.monitor
        upto = min(self.story.last_step, self.shown + self.steps_per_tick)
        monitor.show_events(self.story.events_between(self.shown, upto))
        for step, samples in self.live:
            if self.shown < step <= upto:
                monitor.live.show_samples(samples)
        self.shown = upto
        if upto >= self.story.last_step:
            self.timer.stop()
            monitor.say(f"replayed {self.run.name} to step {upto}")
            QTimer.singleShot(1500, self._play_map)

    def _play_map(self) -> None:
        """Map the samples with the run's last checkpoint, then map every checkpoint and play them."""
        page = self.window.embeddings_panel
        self.window.go_to_step(3)
        page.picker.run_box.setCurrentIndex(page.picker.run_box.findData(str(self.run)))

        def mapped(_count: int) -> None:  # emitted while the mapping job ends: the time-lapse starts once it has
            page.sig_mapped.disconnect(mapped)
            page.work.sig_busy_changed.connect(idle)

        def idle(busy: bool) -> None:
            if not busy:
                page.work.sig_busy_changed.disconnect(idle)
                page.build_timelapse()

        def frames_ready(_count: int) -> None:
            page.sig_timelapse_ready.disconnect(frames_ready)
            page.controls.slider.setValue(0)
            self.frame_timer.start()

        page.sig_mapped.connect(mapped)
        page.sig_timelapse_ready.connect(frames_ready)
        page.extract_and_map()

    @Slot()
    def _next_frame(self) -> None:
        slider = self.window.embeddings_panel.controls.slider
        if slider.value() >= slider.maximum():
            self.frame_timer.stop()
            self.sig_finished.emit()
            return
        slider.setValue(slider.value() + 1)

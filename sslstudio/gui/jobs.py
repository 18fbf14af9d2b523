"""Background work, short (scan, preview, extraction) or long (training): a plain function on its own QThread.

This is the one place in the GUI that starts a thread. The function takes core's `Control` (core/progress.py):
it passes it on as the `progress` callable of long core functions, which then raise `Cancelled` once the
job is cancelled, and it may hand on partial results (`state.partial(value)`), which arrive as
`sig_partial`, the way napari's generator workers yield and Orange's `on_partial_result` receives. Results
and errors come back as signals on the GUI thread; the function never touches a widget. `JobRunner`
keeps every live thread so the window can wait for them on close.
"""
from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QWidget

from sslstudio.core.errors import Cancelled, UserError
from sslstudio.core.progress import Control, Phase, duration
from sslstudio.gui.errors import report_failure


class _Worker(QObject):
    sig_progress = Signal(int, int)
    """Done and total (0 when unknown)."""
    sig_partial = Signal(object)
    """A partial result, in the order the function handed them on."""
    sig_done = Signal(object)
    """The function's return value."""
    sig_failed = Signal(str, str)
    """A one-line message and, for bugs, the formatted traceback (empty for user errors)."""
    sig_cancelled = Signal()
    sig_over = Signal()
    """Emitted last, whatever happened."""

    def __init__(self, function: Callable[[Control], Any]):
        super().__init__()
        self.function = function
        self.state = Control(self.sig_progress.emit, self.sig_partial.emit)

    @Slot()
    def run(self) -> None:
        try:
            result = self.function(self.state)
        except Cancelled:
            self.sig_cancelled.emit()
        except UserError as error:
            self.sig_failed.emit(str(error), "")
        except Exception as error:  # noqa: BLE001 - a bug: the dialog shows the traceback, the app keeps running
            self.sig_failed.emit(f"{type(error).__name__}: {error}", traceback.format_exc())
        else:
            if self.state.cancelled:
                self.sig_cancelled.emit()
            else:
                self.sig_done.emit(result)
        finally:
            self.sig_over.emit()


class Job(QObject):
    """One running job, as the GUI sees it. Signals arrive on the GUI thread."""

    sig_progress = Signal(int, int)
    sig_partial = Signal(object)
    sig_done = Signal(object)
    sig_failed = Signal(str, str)
    sig_cancelled = Signal()
    sig_over = Signal()

    def __init__(self, name: str, function: Callable[[Control], Any], parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._thread = QThread()
        self._thread.setObjectName(f"sslstudio-{name}")
        self._worker = _Worker(function)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        for signal in ("sig_progress", "sig_partial", "sig_done", "sig_failed", "sig_cancelled"):
            getattr(self._worker, signal).connect(getattr(self, signal))
        # Direct: QThread.quit is thread-safe, and a queued call would wait for the GUI thread,
        # which may itself be blocked in wait() while the window closes.
        self._worker.sig_over.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._worker.state.cancel()

    @property
    def cancelled(self) -> bool:
        return self._worker.state.cancelled

    def pause(self) -> None:
        """Pause where the function next waits (training: between two steps)."""
        self._worker.state.pause()

    def resume(self) -> None:
        self._worker.state.resume()

    @property
    def paused(self) -> bool:
        return self._worker.state.paused

    @property
    def finished_thread(self):
        return self._thread.finished

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, ms: int = 30_000) -> bool:
        return self._thread.wait(ms)

    @Slot()
    def _on_thread_finished(self) -> None:
        self.sig_over.emit()


def _mute(job: Job) -> None:
    try:
        job.cancel()
        job.blockSignals(True)
    except RuntimeError:  # the job's own Qt object is gone already
        pass


class PhaseClock:
    """A phase's share done and the time it has left, from its rate so far; where the phase reports no
    progress (a library call), the time it has taken."""

    def __init__(self, phase: Phase | None = None):
        self.phase, self.started, self.done, self.total = phase, time.monotonic(), 0, 0

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def text(self, says: str) -> str:
        name = self.phase.name
        head = f"{says.rstrip('…').rstrip()}: {name}" if says else name[:1].upper() + name[1:]
        elapsed = time.monotonic() - self.started
        if not self.total:
            text = f"{head}… {duration(elapsed)}"
        else:
            share = self.done / self.total
            text = f"{head}, {share:.0%}"
            if 0 < share < 1 and elapsed >= 2:  # a rate from the first instants says little
                text += f", about {duration(elapsed * (1 - share) / share)} left"
        return text if self.phase.stoppable else f"{text} (Cancel waits for this phase to end)"


class JobRunner(QObject):
    """Starts jobs and remembers the running ones, so closing can cancel and wait for all."""

    sig_busy_changed = Signal(str)
    """A short description of what runs now, or an empty string when idle."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.jobs: list[Job] = []

    def start(self, name: str, function: Callable[[Control], Any], owner: QObject | None = None) -> Job:
        """Run `function` on its own thread. Once `owner` is destroyed, the job's signals go quiet,
        so results still queued cannot reach the owner's deleted widgets."""
        job = Job(name, function, self)
        job.finished_thread.connect(lambda: self._forget(job))  # still heard when the job is muted
        if owner is not None:
            owner.destroyed.connect(lambda *_: _mute(job))
        self.jobs.append(job)
        job.start()
        self._announce()
        return job

    def cancel_all(self) -> None:
        for job in self.jobs:
            job.cancel()

    def stop_all(self) -> list[str]:
        """Cancel every job and mute it, so nothing it still sends reaches a closing window; what ran, by name."""
        running = [job.name for job in self.jobs if job.is_running()]
        for job in self.jobs:
            _mute(job)
        return running

    def wait_all(self, ms: int = 30_000) -> bool:
        return all(job.wait(ms) for job in list(self.jobs))

    def _forget(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
            try:
                job.deleteLater()
            except RuntimeError:  # a closing window deleted it (its parent) before this late signal came
                pass
        try:
            self._announce()
        except RuntimeError:  # the runner went with its window first: there is no status bar left to tell
            pass

    def _announce(self) -> None:
        self.sig_busy_changed.emit(", ".join(job.name for job in self.jobs))


class PageJobs(QObject):
    """A page's background work, one job at a time, wired once: the page's status line and progress bar,
    failures through `report_failure`, and a busy signal the page enables its buttons from (Orange's
    `ConcurrentWidgetMixin`). Pages keep only what to do with a result.

    A job in phases (core's `start_phase`) shows each phase's name, its share done and the time it has left
    in the status line, and its progress in the bar, from 0 for each phase."""

    sig_busy_changed = Signal(bool)

    def __init__(self, runner: JobRunner, page: QWidget, status: QLabel, progress: QProgressBar | None = None):
        super().__init__(page)
        self.runner, self.page, self.status, self.progress = runner, page, status, progress
        self.job: Job | None = None
        self._says, self._eta = "", PhaseClock()
        self._clock = QTimer(self, interval=1000, timeout=self._show_phase)  # a phase with no progress: its time

    @property
    def busy(self) -> bool:
        return self.job is not None

    def start(self, name: str, function: Callable[[Control], Any], on_done: Callable[[Any], None],
              says: str | None = None, on_partial: Callable[[Any], None] | None = None) -> Job:
        """Run `function` on its own thread; `says`: what the status line shows meanwhile (left as it is if None);
        `on_partial`: what to do with each partial result that is not a phase."""
        job = self.runner.start(name, function, self.page)
        job.sig_done.connect(on_done)
        job.sig_failed.connect(lambda message, details: report_failure(self.page, self.status, message, details))
        job.sig_cancelled.connect(lambda: self.status.setText("Cancelled."))
        job.sig_over.connect(self._over)
        job.sig_partial.connect(lambda value: self._on_partial(value, on_partial))
        job.sig_progress.connect(self._on_progress)
        if self.progress is not None:
            self.progress.setRange(0, 0)
        self._says, self._eta = says or "", PhaseClock()
        if says is not None:
            self.status.setText(says)
        self.job = job
        self.sig_busy_changed.emit(True)
        return job

    def _on_partial(self, value: Any, on_partial: Callable[[Any], None] | None) -> None:
        if isinstance(value, Phase):
            self._eta = PhaseClock(value)
            if self.progress is not None:
                self.progress.setRange(0, 0)
            self._show_phase()
            self._clock.start()
        elif on_partial is not None:
            on_partial(value)

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.setRange(0, max(total, 1) if total else 0)
            self.progress.setValue(done)
        if self._eta.phase is not None:
            self._eta.update(done, total)
            self._show_phase()

    @Slot()
    def _show_phase(self) -> None:
        if self.job is not None and self._eta.phase is not None and not self.job.cancelled:
            self.status.setText(self._eta.text(self._says))

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            phase = self._eta.phase
            if phase is not None and not phase.stoppable:
                self.status.setText(f"Stopping once {phase.name} is over: this phase cannot be interrupted.")

    @Slot()
    def _over(self) -> None:
        self.job = None
        self._clock.stop()
        self.sig_busy_changed.emit(False)

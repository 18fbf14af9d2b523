"""Short background jobs (scan, preview, thumbnails): a plain function on its own QThread.

The function takes a `JobState` and checks `state.cancelled` (a flag, never a
queued slot: a busy thread would not run one) and may report progress. Results
and errors come back as signals on the GUI thread; the function never touches a
widget. `JobRunner` keeps every live thread so the window can wait for them on
close (Orange's `concurrent.py` and lazyflow's cancel token work the same way).
"""
from __future__ import annotations

import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from sslstudio.core.errors import Cancelled, UserError


class JobState:
    """The job's side of the handle: check for cancel, report progress."""

    REPORT_EVERY_S = 0.05  # throttled at the source: a scan may call progress per folder, 100k times

    def __init__(self, report: Callable[[int, int], None]):
        self._cancelled = threading.Event()
        self._report = report
        self._last_report = 0.0

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    def progress(self, done: int, total: int = 0) -> bool:
        """Report progress; returns False once cancelled, so loops can stop."""
        now = time.monotonic()
        if now - self._last_report >= self.REPORT_EVERY_S or (total and done >= total):
            self._last_report = now
            self._report(done, total)
        return not self.cancelled

    def progress_or_stop(self, done: int, total: int = 0) -> None:
        """Report progress and raise Cancelled once cancelled: the progress callback core functions take."""
        if not self.progress(done, total):
            raise Cancelled("stopped")


class _Worker(QObject):
    sig_progress = Signal(int, int)
    """Done and total (0 when unknown)."""
    sig_done = Signal(object)
    """The function's return value."""
    sig_failed = Signal(str, str)
    """A one-line message and, for bugs, the formatted traceback (empty for user errors)."""
    sig_cancelled = Signal()
    sig_over = Signal()
    """Emitted last, whatever happened."""

    def __init__(self, function: Callable[[JobState], Any]):
        super().__init__()
        self.function = function
        self.state = JobState(self.sig_progress.emit)

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

    live: ClassVar[weakref.WeakSet] = weakref.WeakSet()  # tests check that none is left running

    sig_progress = Signal(int, int)
    sig_done = Signal(object)
    sig_failed = Signal(str, str)
    sig_cancelled = Signal()
    sig_over = Signal()

    def __init__(self, name: str, function: Callable[[JobState], Any], parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._thread = QThread()
        self._thread.setObjectName(f"sslstudio-{name}")
        self._worker = _Worker(function)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        for ours, theirs in ((self.sig_progress, self._worker.sig_progress), (self.sig_done, self._worker.sig_done),
                             (self.sig_failed, self._worker.sig_failed),
                             (self.sig_cancelled, self._worker.sig_cancelled)):
            theirs.connect(ours)
        # Direct: QThread.quit is thread-safe, and a queued call would wait for the GUI thread,
        # which may itself be blocked in wait() while the window closes.
        self._worker.sig_over.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)

    def start(self) -> None:
        Job.live.add(self)
        self._thread.start()

    def cancel(self) -> None:
        self._worker.state.cancel()

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


class JobRunner(QObject):
    """Starts jobs and remembers the running ones, so closing can cancel and wait for all."""

    sig_busy_changed = Signal(str)
    """A short description of what runs now, or an empty string when idle."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.jobs: list[Job] = []

    def start(self, name: str, function: Callable[[JobState], Any], owner: QObject | None = None) -> Job:
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

    def wait_all(self, ms: int = 30_000) -> bool:
        return all(job.wait(ms) for job in list(self.jobs))

    def _forget(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
            try:
                job.deleteLater()
            except RuntimeError:  # a closing window deleted it (its parent) before this late signal came
                pass
        self._announce()

    def _announce(self) -> None:
        self.sig_busy_changed.emit(", ".join(job.name for job in self.jobs))

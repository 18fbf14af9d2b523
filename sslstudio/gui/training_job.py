"""A training run on its own QThread: a worker object runs core training and turns events into signals.

The worker never touches a widget. Trainer events (frozen dataclasses of CPU
scalars) are buffered and sent at most ten times a second; a finish, failure or
checkpoint is sent at once. Pause, resume and stop go through the core's
TrainingControl flag, which the loop checks between steps: a slot queued to a
busy thread would never run. Every few seconds, between two steps, the worker
also renders the task's live outputs (reconstructions, colours, token fills)
on fixed samples, on CPU copies of the model.
"""
from __future__ import annotations

import threading
import time
import traceback

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from sslstudio.core.training.events import CheckpointSaved, StepMetrics, TrainingFailed, TrainingFinished

EMIT_EVERY_S = 0.1
LIVE_EVERY_S = 4.0
LIVE_SAMPLES = 4


class _TrainingWorker(QObject):
    sig_events = Signal(list)
    """A batch of trainer events, oldest first."""
    sig_live = Signal(list)
    """The task's live preview on fixed samples: a list of PreviewSample."""
    sig_log = Signal(str)
    sig_done = Signal(object)
    """TrainingFinished or TrainingFailed."""
    sig_crashed = Signal(str, str)
    """A bug outside the training loop (message, traceback); the app stays up."""
    sig_over = Signal()

    def __init__(self, request, control):
        super().__init__()
        self.request = request
        self.control = control
        self._buffer: list = []
        self._lock = threading.Lock()
        self._last_emit = 0.0
        self._last_live = 0.0
        self._prepared = None
        self._live_raw = None

    @Slot()
    def run(self) -> None:
        from sslstudio.core.errors import Cancelled
        from sslstudio.core.training.session import prepare, train

        self._urgent = (CheckpointSaved, TrainingFailed, TrainingFinished)
        try:
            self.sig_log.emit(f"loading {self.request.folder} …")
            self._prepared = prepare(self.request, progress=self._loading)
            samples = self._prepared.samples
            self.sig_log.emit(f"{len(samples)} samples loaded, {len(samples.bad)} skipped; "
                              f"training {self._prepared.task.name} on {self.request.device}")
            self._live_raw = self._prepared.task.pipeline.training_raw(samples, range(min(LIVE_SAMPLES, len(samples))),
                                                                        seed=0)
            result = train(self.request, [self._on_event], self.control, prepared=self._prepared)
            self._flush()
            self.sig_done.emit(result)
        except Cancelled:  # stopped while the folder was still being decoded into its store
            self.sig_done.emit(TrainingFinished(0, "cancelled", 0.0))
        except Exception as error:  # noqa: BLE001 - shown in the UI; the app keeps running
            from sslstudio.core.errors import UserError

            self._flush()
            if isinstance(error, UserError):
                self.sig_done.emit(TrainingFailed(0, str(error)))
            else:
                self.sig_crashed.emit(f"{type(error).__name__}: {error}", traceback.format_exc())
        finally:
            self._prepared = None
            self.sig_over.emit()

    def _loading(self, done: int, total: int) -> None:
        """Decoding into the store (or waiting for another job that does): say how far, stop when asked."""
        from sslstudio.core.errors import Cancelled

        if self.control.cancelled:
            raise Cancelled("stopped while loading")
        now = time.monotonic()
        if total and (now - self._last_emit >= 1.0 or done == total):
            self._last_emit = now
            self.sig_log.emit(f"decoding into the sample store: {done}/{total}")
        elif not total and now - self._last_emit >= 5.0:
            self._last_emit = now
            self.sig_log.emit("waiting for another job that is decoding this folder …")

    def _on_event(self, event) -> None:
        """Called by the trainer on this thread, between steps."""
        with self._lock:
            self._buffer.append(event)
        now = time.monotonic()
        if isinstance(event, self._urgent) or now - self._last_emit >= EMIT_EVERY_S:
            self._flush()
        if now - self._last_live >= LIVE_EVERY_S and isinstance(event, StepMetrics):
            self._last_live = now
            self._send_live()

    def _flush(self) -> None:
        with self._lock:
            batch, self._buffer = self._buffer, []
        if batch:
            self._last_emit = time.monotonic()
            self.sig_events.emit(batch)

    def _send_live(self) -> None:
        if self._prepared is None or self._live_raw is None:
            return
        model = self._prepared.model
        try:
            samples = self._prepared.task.live_preview(model.backbone, model.heads, self._live_raw, seed=0)
        except Exception as error:  # noqa: BLE001 - a preview bug must not stop training
            self.sig_log.emit(f"live preview failed: {type(error).__name__}: {error}")
            return
        self.sig_live.emit(samples)


class TrainingJob(QObject):
    """One training run as the GUI sees it: start, pause, resume, stop, wait."""

    sig_events = Signal(list)
    sig_live = Signal(list)
    sig_log = Signal(str)
    sig_done = Signal(object)
    sig_crashed = Signal(str, str)
    sig_over = Signal()

    def __init__(self, request, parent: QObject | None = None):
        super().__init__(parent)
        from sslstudio.core.training.control import TrainingControl

        self.request = request
        self.control = TrainingControl()
        self._thread = QThread()
        self._thread.setObjectName("sslstudio-training")
        self._worker = _TrainingWorker(request, self.control)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        for name in ("sig_events", "sig_live", "sig_log", "sig_done", "sig_crashed"):
            getattr(self._worker, name).connect(getattr(self, name))
        self._worker.sig_over.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self.sig_over)

    def start(self) -> None:
        self._thread.start()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        self.control.cancel()

    @property
    def paused(self) -> bool:
        return self.control.paused

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, ms: int = 60_000) -> bool:
        return self._thread.wait(ms)

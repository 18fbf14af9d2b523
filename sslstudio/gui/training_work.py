"""A training run as a background job (gui/jobs.py): the function the job runs, and what it hands on.

The function runs core training on the job's thread and hands on partial results, which reach the Train
page as the job's `sig_partial`: batches of trainer events (frozen dataclasses of CPU scalars), at most
ten a second and at once for a checkpoint or the run's end; the task's live outputs on fixed samples,
every few seconds between two steps, on CPU copies of the model; and lines for the log. The run's end
is always an event, `TrainingFinished` or `TrainingFailed`, even when the run stops before its first
step. Pause, resume and stop go through the job's `Control`, which the loop checks between steps. Qt-free.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sslstudio.core.errors import Cancelled, UserError
from sslstudio.core.progress import Control
from sslstudio.core.training.events import CheckpointSaved, StepMetrics, TrainingFailed, TrainingFinished

EMIT_EVERY_S = 0.1
LIVE_EVERY_S = 4.0
LIVE_SAMPLES = 4
URGENT = (CheckpointSaved, TrainingFailed, TrainingFinished)


@dataclass(frozen=True)
class Events:
    events: list  # trainer events, oldest first


@dataclass(frozen=True)
class LiveOutputs:
    samples: list  # PreviewSample: the task's outputs on the fixed samples


@dataclass(frozen=True)
class LogLine:
    text: str


class TrainingWork:
    """Call it with the job's Control; returns the run's end (also handed on as the last event)."""

    def __init__(self, request):
        self.request = request
        self._buffer: list = []
        self._last_emit = 0.0
        self._last_live = 0.0
        self._last_log = 0.0
        self._prepared = None
        self._live_raw = None
        self._control: Control | None = None

    def __call__(self, control: Control):
        from sslstudio.core.training.session import prepare, train  # torch

        self._control = control
        try:
            control.partial(LogLine(f"loading {self.request.folder} …"))
            self._prepared = prepare(self.request, progress=self._loading)
            samples = self._prepared.samples
            control.partial(LogLine(f"{len(samples)} samples loaded, {len(samples.bad)} skipped; training "
                                    f"{self._prepared.task.name} on {self.request.device}"))
            self._live_raw = self._prepared.task.pipeline.training_raw(
                samples, range(min(LIVE_SAMPLES, len(samples))), seed=0)
            return train(self.request, [self._on_event], control, prepared=self._prepared)
        except Cancelled:  # stopped while the folder was still being decoded into its store
            return self._end(TrainingFinished(0, "cancelled", 0.0))
        except UserError as error:  # bad input or settings: said in the alert line, not as a bug
            return self._end(TrainingFailed(0, str(error)))
        finally:
            self._flush()
            self._prepared = None

    def _end(self, event):
        self._buffer.append(event)
        return event

    def _loading(self, done: int, total: int) -> None:
        """Decoding into the store (or waiting for another job that does): say how far; stop when asked."""
        self._control(done, total)
        now = time.monotonic()
        if total and (now - self._last_log >= 1.0 or done == total):
            self._last_log = now
            self._control.partial(LogLine(f"decoding into the sample store: {done}/{total}"))
        elif not total and now - self._last_log >= 5.0:
            self._last_log = now
            self._control.partial(LogLine("waiting for another job that is decoding this folder …"))

    def _on_event(self, event) -> None:
        """Called by the trainer on the job's thread, between steps."""
        self._buffer.append(event)
        now = time.monotonic()
        if isinstance(event, URGENT) or now - self._last_emit >= EMIT_EVERY_S:
            self._flush()
        if now - self._last_live >= LIVE_EVERY_S and isinstance(event, StepMetrics):
            self._last_live = now
            self._send_live()

    def _flush(self) -> None:
        batch, self._buffer = self._buffer, []
        if batch:
            self._last_emit = time.monotonic()
            self._control.partial(Events(batch))

    def _send_live(self) -> None:
        if self._prepared is None or self._live_raw is None:
            return
        model = self._prepared.model
        try:
            samples = self._prepared.task.live_preview(model.backbone, model.heads, self._live_raw, seed=0)
        except Exception as error:  # noqa: BLE001 - a preview bug must not stop training
            self._control.partial(LogLine(f"live preview failed: {type(error).__name__}: {error}"))
            return
        self._control.partial(LiveOutputs(samples))

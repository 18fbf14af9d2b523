"""One progress and cancel protocol for every long core function, and the token that implements it.

A long function takes `progress: Progress | None` and calls `progress(done, total)`: total is 0 when
unknown, and (0, 0) means it waits for another job. The call raises `Cancelled` once the work is
cancelled, so a loop stops at its next report, with nothing half-written.

`Control` is that callable and the front end's handle: cancel, pause and resume it from any thread.
The training loop also calls `wait_while_paused()` between steps. A flag, never a queued slot: a busy
thread would never run a slot (Orange's `TaskState`, lazyflow's cancel token, napari's `progress`).
A job can also hand on partial results (a running training's events) through `partial`.

Work in several phases (decoding, embedding, fitting) names each as it starts with `start_phase(progress,
name)`: the next reports count that phase's work from 0, and a front end that can show a phase's name does.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sslstudio.core.errors import Cancelled

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Phase:
    """A new phase of a job starts: what the front end shows beside its progress, which restarts from 0."""

    name: str
    unit: str = "samples"  # what the phase's reports count
    stoppable: bool = True  # False: inside one library call, so Cancel takes effect once the phase is over


def start_phase(progress: Progress | None, name: str, unit: str = "samples", stoppable: bool = True) -> None:
    """Announce the phase `name`, whose reports count `unit`, to a progress callable that can show it (a
    `Control`, the CLI's report); a plain callable is left alone. Raises `Cancelled` as a report does."""
    starts = getattr(progress, "start_phase", None)
    if starts is not None:
        starts(name, unit, stoppable)


class Control:
    REPORT_EVERY_S = 0.05  # reports are throttled here: a scan may report per folder, 100k times

    def __init__(self, report: Progress | None = None, partial: Callable[[Any], None] | None = None):
        self._cancelled = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._report = report
        self._partial = partial
        self._last_report = 0.0

    # -- the side that controls
    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()  # wake a paused loop so it can see the cancel

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    # -- the side that works
    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def __call__(self, done: int, total: int = 0) -> None:
        """The `Progress` callable: report (throttled; always the last), and raise Cancelled once cancelled."""
        if self.cancelled:
            raise Cancelled("stopped")
        now = time.monotonic()
        if self._report is not None and (now - self._last_report >= self.REPORT_EVERY_S or (total and done >= total)):
            self._last_report = now
            self._report(done, total)

    def start_phase(self, name: str, unit: str = "samples", stoppable: bool = True) -> None:
        """A new phase: handed on as a `Phase` partial result, and the next report is not throttled."""
        if self.cancelled:
            raise Cancelled("stopped")
        self._last_report = 0.0
        self.partial(Phase(name, unit, stoppable))

    def partial(self, value: Any) -> None:
        """Hand a partial result to whoever watches the work (the GUI: on its own thread, as a signal)."""
        if self._partial is not None:
            self._partial(value)

    def wait_while_paused(self) -> None:
        while not self._running.wait(timeout=0.1):
            pass


def tame_tqdm() -> None:
    """One plain thread lock for every tqdm bar of the process, and no monitor thread.

    tqdm's default lock is a multiprocessing lock beside a thread lock, which a monitor thread takes every
    10 s; with bars made from several threads at once (an ONNX export's tracer, umap's epochs, the CLI's own)
    an export deadlocked in it on a loaded machine. Called where bars are first made, not at import: importing
    tqdm costs a quarter of a second, and the window shows first."""
    import tqdm

    if getattr(tqdm.tqdm, "_lock", None) is _BARS_LOCK:
        return
    tqdm.tqdm.set_lock(_BARS_LOCK)
    tqdm.tqdm.monitor_interval = 0
    if tqdm.tqdm.monitor is not None:
        tqdm.tqdm.monitor.exit()
        tqdm.tqdm.monitor = None


_BARS_LOCK = threading.RLock()


def release_bars_lock() -> None:
    """Give back the bars' lock where this thread still holds it: tqdm's refresh does not release it when the
    bar's file raises, as a cancelled job's report does from inside umap's bar, and every other thread's
    next bar (an ONNX export's tracer makes some) would then wait for ever."""
    while _BARS_LOCK._is_owned():
        _BARS_LOCK.release()


def duration(seconds: float) -> str:
    """A time span as a clock shows it: 4:09, or 1:02:03 past the hour."""
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"

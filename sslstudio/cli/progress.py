"""What long commands say while they work, on stderr (stdout keeps the result, or the one JSON object).

On a terminal, a tqdm bar with the count, rate and ETA, redrawn in place; training keeps its line per logged
step above the bar. Elsewhere (a log file, a pipe, CI) a few plain lines: one at each quarter of the work, with
the rate and what is left, so a million files print five lines, not four thousand. Under torchrun only rank 0
speaks.
"""
from __future__ import annotations

import io
import os
import sys
import time
from typing import TextIO

from sslstudio.core.progress import duration, tame_tqdm
from sslstudio.core.training.events import SAMPLE_NOUN, CheckpointSaved, HealthMetrics, StepMetrics, TrainingFailed

QUARTERS = (0.25, 0.5, 0.75, 1.0)
QUIET_S = 2.0  # work that ends this soon gets its closing line only

_open_bars: list = []  # the bars on screen, so that a message is written above them, not through them


def speaks() -> bool:
    return os.environ.get("RANK", "0") == "0"  # under torchrun, rank 0 speaks for all; no torch import here


def say(message: str) -> None:
    if not speaks():
        return
    if _open_bars:
        _open_bars[-1].write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr, flush=True)


class ProgressReport:
    """A `Progress` callable (core/progress.py) that shows `done` of `total` as a bar or as a few lines.

    `bar`: None decides by the stream (a bar only on a terminal). A total of 0 means "not known yet" (another
    process holds the store): the bar waits, and no line is printed for it.
    """

    def __init__(self, label: str, unit: str = "files", stream: TextIO | None = None, bar: bool | None = None):
        self.label, self.unit = label, unit
        self.stream = stream if stream is not None else sys.stderr
        self.as_bar = _is_terminal(self.stream) if bar is None else bar
        self._bar = None
        self._start: float | None = None
        self._quarters_said = 0
        self._last_done = 0

    def __call__(self, done: int, total: int) -> None:
        if not speaks():
            return
        if done < self._last_done:  # a second pass (the baselines' features after the run's): a report of its own
            self.close()
            self._start, self._quarters_said = None, 0
        self._last_done = done
        if self._start is None:
            self._start = time.perf_counter()
        if self.as_bar:
            self._show_bar(done, total)
        elif total:
            self._show_line(done, total)

    def start_phase(self, name: str, unit: str = "samples", stoppable: bool = True) -> None:
        """A new phase of the work (core/progress.py `start_phase`): a bar or lines of its own, under its name."""
        self.close()
        self.label, self.unit, self._start, self._quarters_said, self._last_done = name, unit, None, 0, 0

    def _show_bar(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm.auto import tqdm  # only when there is somewhere to draw: a terminal, or a notebook's widget

            tame_tqdm()
            self._bar = tqdm(desc=self.label, total=total or None, unit=f" {self.unit}", file=self.stream,
                             mininterval=0.2, **_width(self.stream))
            _open_bars.append(self._bar)
        if total and self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)
        if total and done >= total:
            self.close()

    def _show_line(self, done: int, total: int) -> None:
        share = done / total
        reached = sum(share >= mark for mark in QUARTERS)
        elapsed = time.perf_counter() - self._start
        if reached <= self._quarters_said or (done < total and elapsed < QUIET_S):
            return
        self._quarters_said = reached
        rate = done / elapsed if elapsed > 0 else 0.0
        line = f"{self.label}: {done:,}/{total:,} {self.unit} ({share:.0%})"
        if done >= total:
            line += f" in {duration(elapsed)}" + (f", {rate:,.0f} {self.unit}/s" if elapsed >= 1 else "")
        elif rate > 0:
            line += f", {rate:,.0f} {self.unit}/s, about {duration((total - done) / rate)} left"
        print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            _open_bars.remove(self._bar)
            self._bar = None


def _width(stream: TextIO) -> dict:
    """tqdm's size options: follow the terminal's size, or assume 100 x 24 where the terminal reports none (a bare
    pseudo-terminal says 0 x 0, and tqdm would then draw nothing)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        size = os.terminal_size((0, 0))
    return {"dynamic_ncols": True} if size.columns and size.lines else {"ncols": 100, "nrows": 24}


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


class TrainPrinter:
    """Training's voice: one line per logged step (loss, speed, data wait, ETA), the health checks, each kind of
    alert once as it first appears, and on a terminal a bar of the steps under those lines."""

    def __init__(self, modality: str, stream: TextIO | None = None, bar: bool | None = None):
        self.last: dict = {}
        self.noun = SAMPLE_NOUN[modality]
        self.alerts_said: set[str] = set()
        self.steps = ProgressReport("training", "steps", stream, bar)

    def _alert(self, event) -> None:
        from sslstudio.core.training.alerts import alerts_for

        for alert in alerts_for(event):
            kind = alert.split(":")[0]
            if kind not in self.alerts_said and not isinstance(event, TrainingFailed):  # a failure is said at the end
                self.alerts_said.add(kind)
                say(f"alert: {alert}")

    def __call__(self, event) -> None:
        self._alert(event)
        if isinstance(event, HealthMetrics):
            self.last.update(collapse_std=round(event.collapse_std, 4),
                             effective_rank=round(event.effective_rank, 1))
            knn = ""
            if event.knn_accuracy is not None:
                self.last["knn_accuracy"] = round(event.knn_accuracy, 4)
                knn = f", online kNN accuracy {event.knn_accuracy:.3f}"
            say(f"  health: collapse std {event.collapse_std:.4f} (healthy ~{event.healthy_std:.4f}), "
                f"effective rank {event.effective_rank:.1f}/{event.embed_dim}{knn}")
        elif isinstance(event, StepMetrics):
            self.last.update(step=event.step, loss=round(event.loss, 5), **event.metrics)
            extras = "".join(f" {k} {v:.3f}" for k, v in event.metrics.items())
            of_total = f"/{event.total_steps}" if event.total_steps is not None else ""
            say(f"step {event.step}{of_total} loss {event.loss:.4f}{extras} lr {event.lr:.2e} "
                f"{event.samples_per_s:.0f} {self.noun}/s data-wait {event.data_wait_share:.0%} "
                f"ETA {event.eta_s:.0f} s")
            if self.steps.as_bar:  # the lines above say it all where there is no terminal
                self.steps(event.step, event.total_steps or 0)
        elif isinstance(event, CheckpointSaved):
            say(f"checkpoint saved at step {event.step}")

    def close(self) -> None:
        self.steps.close()

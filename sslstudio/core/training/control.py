"""A thread-safe pause/cancel token: the GUI flips it, the training loop checks it between steps.

Cancellation is a flag, not a queued slot: a stop request to a busy worker's
event loop would never run.
"""
from __future__ import annotations

import threading


class TrainingControl:
    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._running = threading.Event()
        self._running.set()

    # -- the side that controls
    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()  # wake a paused loop so it can see the cancel

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    # -- the side that only checks
    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> None:
        while not self._running.wait(timeout=0.1):
            pass

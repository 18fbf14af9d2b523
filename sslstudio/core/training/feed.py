"""What the training loop reads, made a few steps ahead so the device does not wait for it.

A `TrainingData` makes the raw batch of given samples (see `Pipeline.training_raw`); the `Feed`
runs it on a thread ahead of the loop. Everything about step s is derived from the step number
(its samples from the epoch's permutation, its read seed from (seed, step, rank)), so a resumed
run reads exactly what it would have read, whichever thread reads it.

On a GPU the batch is read into pinned memory and copied on a side stream while the previous
step computes; the random augmentations then run batched on the GPU (`make_batch`), with their
parameters drawn on the CPU from the step's generator, exactly as in the preview.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import torch


class TrainingData(Protocol):
    def __len__(self) -> int: ...

    def batch(self, indices: np.ndarray, seed: int, pin: bool = False) -> Any:
        """The raw batch of these samples, on the CPU; it has `.to(device, non_blocking=...)`."""


class SampleData:
    """Samples in a store, read through the run's input pipeline."""

    def __init__(self, samples, pipeline):
        self.samples, self.pipeline = samples, pipeline

    def __len__(self) -> int:
        return len(self.samples)

    def batch(self, indices: np.ndarray, seed: int, pin: bool = False) -> torch.Tensor:
        return self.pipeline.training_raw(self.samples, indices, seed, pin)


class TensorData:
    """A raw tensor already in memory (tests and benchmarks)."""

    def __init__(self, raw: torch.Tensor):
        self.raw = raw

    def __len__(self) -> int:
        return len(self.raw)

    def batch(self, indices: np.ndarray, seed: int, pin: bool = False) -> torch.Tensor:
        if self.raw.device.type != "cpu":
            return self.raw[torch.as_tensor(indices, device=self.raw.device)]
        # numpy's gather on this thread: a torch op here starts a second OpenMP team beside the training
        # thread's (bench/trainer_overhead on 2 cores: 0.91 and 0.95 of a hand-written loop with a torch
        # gather, 1.01 and 1.02 with this one).
        chosen = torch.from_numpy(self.raw.numpy()[indices])
        return chosen.pin_memory() if pin else chosen


def as_training_data(data) -> TrainingData:
    return TensorData(data) if isinstance(data, torch.Tensor) else data


class Feed:
    """Batches for steps first, first + 1, ... up to `last`, read `depth` steps ahead on a thread."""

    def __init__(self, data: TrainingData, indices_of: Callable[[int], np.ndarray], seed_of: Callable[[int], int],
                 device: torch.device, first: int, last: int, depth: int = 3):
        self.data, self.indices_of, self.seed_of, self.device = data, indices_of, seed_of, device
        self.step, self.last = first, last
        self.cuda = device.type == "cuda"
        self.ready: queue.Queue = queue.Queue(depth)
        self.stop = threading.Event()
        self.copy_stream = torch.cuda.Stream(device) if self.cuda else None
        self.copied: tuple[int, Any, Exception | None] | None = None  # the next step's batch, on its way
        self.thread = threading.Thread(target=self._produce, name="sslstudio-feed", daemon=True)
        self.thread.start()

    def _produce(self) -> None:
        for step in range(self.step, self.last):
            try:
                item = (step, self.data.batch(self.indices_of(step), self.seed_of(step), pin=self.cuda), None)
            except Exception as exc:  # noqa: BLE001 - raised again in the training loop
                item = (step, None, exc)
            while not self.stop.is_set():
                try:
                    self.ready.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if self.stop.is_set() or item[2] is not None:
                return

    def _take(self):
        step, batch, error = self.ready.get()
        if error is not None:
            raise error
        return step, batch

    def _start_copy(self) -> None:
        """The next batch, on its way to the GPU on the side stream while this step computes. A read error
        is kept for the step that needs the batch."""
        if self.copied is None and self.step < self.last and not self.ready.empty():
            step, batch, error = self.ready.get()
            if error is None:
                with torch.cuda.stream(self.copy_stream):
                    batch = batch.to(self.device, non_blocking=True)
            self.copied = (step, batch, error)

    def next(self) -> tuple[Any, float]:
        """(the raw batch of the current step on the device, seconds spent waiting for it)."""
        started = time.perf_counter()
        if self.cuda and self.copied is not None:
            step, batch, error = self.copied
            self.copied = None
            if error is not None:
                raise error
            current = torch.cuda.current_stream(self.device)
            current.wait_stream(self.copy_stream)
            _record_stream(batch, current)
        else:
            step, batch = self._take()
            # Non-blocking only from pinned memory to a GPU: a CPU -> MPS copy of pageable memory that does
            # not wait can read the batch after it is freed.
            batch = batch.to(self.device, non_blocking=self.cuda)
        assert step == self.step, f"feed out of step: {step} != {self.step}"
        self.step += 1
        waited = time.perf_counter() - started
        if self.cuda:
            self._start_copy()
        return batch, waited

    def close(self) -> None:
        self.stop.set()
        while self.thread.is_alive():
            try:
                self.ready.get(timeout=0.05)
            except queue.Empty:
                pass
        self.thread.join()


def _record_stream(batch, stream) -> None:
    tensors = [batch] if isinstance(batch, torch.Tensor) else [v for v in vars(batch).values()
                                                               if isinstance(v, torch.Tensor)]
    for tensor in tensors:
        tensor.record_stream(stream)

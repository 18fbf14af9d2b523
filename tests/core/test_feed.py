"""The feed reads batches ahead of the training loop, in step order, and hands errors and stops over cleanly."""
import time

import numpy as np
import pytest
import torch

from sslstudio.core.training.feed import Feed


class Recording:
    """Raw batches that say which step's samples and seed they were made from."""

    def __init__(self, fail_at: int | None = None):
        self.fail_at, self.made = fail_at, []

    def __len__(self) -> int:
        return 1000

    def batch(self, indices, seed, pin=False):
        self.made.append(seed)
        if seed == self.fail_at:
            raise OSError("the disk went away")
        return torch.as_tensor(np.stack([indices, np.full(len(indices), seed)]))


def feed(data, first=0, last=10, depth=3):
    return Feed(data, lambda step: np.arange(step * 4, step * 4 + 4), lambda step: 100 + step, torch.device("cpu"),
                first, last, depth)


def test_batches_come_in_step_order_from_where_training_resumes():
    data = Recording()
    reader = feed(data, first=4)
    try:
        for step in range(4, 10):
            batch, waited = reader.next()
            assert batch[0].tolist() == list(range(step * 4, step * 4 + 4)) and batch[1, 0] == 100 + step
            assert waited >= 0
    finally:
        reader.close()
    assert data.made == [100 + s for s in range(4, 10)]  # nothing before the resumed step, nothing twice


def test_an_error_while_reading_reaches_the_step_that_needed_the_batch():
    reader = feed(Recording(fail_at=103))
    try:
        for _ in range(3):
            reader.next()
        with pytest.raises(OSError, match="disk went away"):
            reader.next()
    finally:
        reader.close()


def test_closing_stops_a_reader_that_is_waiting_for_room():
    data = Recording()
    reader = feed(data, last=1000, depth=2)
    reader.next()
    time.sleep(0.3)  # the reader fills the queue and waits
    started = time.perf_counter()
    reader.close()
    assert time.perf_counter() - started < 1.0 and not reader.thread.is_alive()
    assert len(data.made) <= 5  # read ahead by the queue's depth, not the whole run

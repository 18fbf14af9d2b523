"""The memory a run needs, estimated before it starts, and what to lower when it does not fit.

The weights cost four times their size in training (weights, gradients, AdamW's two moments). The
activations are measured, not guessed: one forward pass on two samples records every tensor that autograd
keeps for the backward pass, and a step holds them for the whole batch. Memory that runs out anyway (the
estimate is not exact, another process takes some) ends the run in one line that says the same.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from sslstudio.core.errors import RunError

AVAILABLE_ENV = "SSLSTUDIO_MEMORY_AVAILABLE"  # bytes: stands in for what the machine reports (tests, a shared host)
PROBE_SAMPLES = 2
# The backward pass frees what it has used as it goes. Calibrated on the CPU: simclr, cnn_small, 224 px, batch
# 128 peaked at 13.9 GB of RSS; this estimates 14.2 GB.
BACKWARD_FACTOR = 1.1
WARN_SHARE = 0.8  # above this share of the available memory the run starts with a warning


@dataclass(frozen=True)
class MemoryNeed:
    fixed: int  # weights, gradients and optimizer state
    per_sample: int  # activations and the raw input of one sample
    batch_size: int
    image_size: int | None  # None for audio and text

    @property
    def total(self) -> int:
        return self.fixed + self.per_sample * self.batch_size

    def batch_that_fits(self, available: int) -> int:
        return int((available * WARN_SHARE - self.fixed) // max(1, self.per_sample))

    def advice(self, available: int) -> str:
        """What to lower, with values that fit `available`."""
        batch = self.batch_that_fits(available)
        if batch >= 1:
            lower = [f"--batch-size to {_round_down(batch)}"]
            if self.image_size:  # activations grow with the image's area
                side = int(self.image_size * (batch / self.batch_size) ** 0.5) // 8 * 8
                if side >= 16:
                    lower.append(f"--image-size to {side}")
            return "lower " + " or ".join(lower)
        return "choose a smaller --backbone" + (" or a lower --image-size" if self.image_size else "")


def measure(model: torch.nn.Module, task, raw: torch.Tensor, batch_size: int, device: torch.device,
            image_size: int | None, amp_dtype: torch.dtype | None = None) -> MemoryNeed:
    """The memory of a training step of `batch_size`, from one forward pass on `raw` (a few samples)."""
    from sslstudio.core.tasks.base import make_generator

    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    saved: dict[int, int] = {}  # bytes by storage: one tensor is often kept by several operations

    def count(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    model.to(device).train()
    kept = {name: buffer.clone() for name, buffer in model.named_buffers()}  # BatchNorm's running statistics
    rng_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=rng_devices):  # dropout's draws leave the run's random stream as it was
        batch = task.make_batch(raw.to(device), make_generator(0))
        with torch.autograd.graph.saved_tensors_hooks(count, lambda tensor: tensor), \
                torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            model(batch)  # the graph is dropped unused: nothing is learnt
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            buffer.copy_(kept[name])
    samples = len(raw)
    per_sample = int(sum(saved.values()) * BACKWARD_FACTOR / samples) + raw.numel() * raw.element_size() // samples
    return MemoryNeed(4 * weights + buffers, per_sample, batch_size, image_size)


def available(device: torch.device) -> int | None:
    """Bytes free for this run on `device`, or None where that cannot be known."""
    given = os.environ.get(AVAILABLE_ENV)
    if given:
        return int(given)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this system (macOS has no SC_AVPHYS_PAGES)
        return None


def check(need: MemoryNeed, free: int | None) -> str | None:
    """Refuse a run that does not fit (RunError); a warning, in words, for one that barely fits."""
    if free is None or need.total <= free * WARN_SHARE:
        return None
    from sslstudio.core.data.survey import describe_bytes

    said = (f"this run needs about {describe_bytes(need.total)} of memory and {describe_bytes(free)} is available "
            f"for it")
    if need.total > free:
        raise RunError(f"{said}: {need.advice(free)}")
    return f"warning: {said}; if it runs out, {need.advice(free)}"


def is_out_of_memory(exc: BaseException) -> bool:
    """An allocation that failed: torch's CUDA error, the CPU allocator's, or Python's."""
    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text
                                              or "could not allocate" in text.lower())


def out_of_memory_advice(batch_size: int, image_size: int | None) -> str:
    lower = [f"--batch-size (to {max(1, batch_size // 2)})"] if batch_size > 1 else []
    if image_size:
        lower.append(f"--image-size (to {max(16, image_size // 2 // 8 * 8)})")
    return "lower " + " or ".join(lower) if lower else "choose a smaller --backbone"


def _round_down(batch: int) -> int:
    return batch if batch < 8 else batch // 8 * 8


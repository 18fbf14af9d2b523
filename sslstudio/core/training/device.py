"""Device choice: CUDA, then Apple MPS, then CPU; and a CPU thread count that leaves a core free."""
from __future__ import annotations

import os

import torch

from sslstudio.core.data.dataset import set_decode_threads
from sslstudio.core.errors import UserError


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"device {name!r} asked for, but no CUDA GPU is usable here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(f"device {name!r} does not exist; {torch.cuda.device_count()} CUDA device(s) found")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UserError("device 'mps' asked for, but Apple MPS is not available here")
    return device


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"CUDA {props.name} ({props.total_memory / 2**30:.0f} GiB)"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"


def available_devices() -> list[tuple[str, str]]:
    """(name to pass as `device`, what to show) for every device this machine can train on."""
    choices = [("auto", f"Automatic: {describe_device(resolve_device('auto'))}"),
               ("cpu", describe_device(torch.device("cpu")))]
    choices += [(f"cuda:{i}", describe_device(torch.device("cuda", i))) for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        choices.append(("mps", "Apple MPS"))
    return choices


def set_cpu_threads(leave_free: int = 0) -> int:
    """Use every core but `leave_free` (the GUI passes 1 so its thread keeps a core)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = max(1, cores - leave_free)
    torch.set_num_threads(threads)
    set_decode_threads(threads)
    return threads


def warm_up_training_imports() -> None:
    """One tiny optimisation step, so that what torch imports lazily on the first backward pass and
    the first optimiser step (torch._dynamo, torch._inductor.config: about 0.2 s, partly holding the
    GIL) is loaded now, off the critical path, and not as the GUI's first run starts."""
    layer = torch.nn.Linear(4, 2)
    optimizer = torch.optim.AdamW(layer.parameters(), lr=1e-3)
    layer(torch.ones(3, 4)).square().mean().backward()
    optimizer.step()

"""Running under torchrun: joining the process group, who is rank 0, and agreeing to stop.

torchrun sets RANK and WORLD_SIZE; every process runs the same command. Only
rank 0 writes the run folder and speaks; a stop (time budget, cancel) must be
agreed by all ranks, or the others wait forever in the next gradient sync.
"""
from __future__ import annotations

import os

import torch


def rank_and_world() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def init_from_environment(device: str) -> None:
    """Join the process group when launched by torchrun: NCCL on GPUs, Gloo on CPUs."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return
    use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if use_cuda else "gloo")


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when `flag` is true on any (a no-op without a process group)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return flag
    value = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def leave_process_group(together: bool = True) -> None:
    """Tear the process group down before exit. Left to interpreter exit, Gloo's threads can abort a
    rank ("terminate called without an active exception") after training succeeded; so did a rank that
    tore down while rank 0 was still writing its last checkpoint. `together` waits at a barrier until
    every rank is done; after a failure it must not, since the others may never arrive (torchrun stops
    them when this rank exits)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        if together:
            dist.barrier()
        dist.destroy_process_group()

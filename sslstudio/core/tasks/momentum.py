"""The momentum (EMA) target networks of BYOL and DINO: one update rule, one schedule."""
from __future__ import annotations

import math

import torch
from torch import nn


def cosine_momentum(start: float, progress: float) -> float:
    """From `start` at the beginning of the budget to 1 at its end, on a cosine (BYOL's schedule, DINO's too)."""
    return 1 - (1 - start) * (math.cos(math.pi * progress) + 1) / 2


@torch.no_grad()
def follow(pairs: tuple[tuple[nn.Module, nn.Module], ...], momentum: float) -> None:
    """Move each target's weights towards its online module's; copy the buffers (BatchNorm statistics)."""
    for online, target in pairs:
        for p_online, p_target in zip(online.parameters(), target.parameters()):
            p_target.lerp_(p_online, 1 - momentum)
        for b_online, b_target in zip(online.buffers(), target.buffers()):
            b_target.copy_(b_online)

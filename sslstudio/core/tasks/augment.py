"""Batched image augmentations with their sampled parameters, shared by the image tasks.

They run on whole uint8 (B, C, H, W) batches on the batch's device; random
draws come from a CPU generator, so a seed fixes them on any device.
"""
from __future__ import annotations

import torch


def shift_crop(images: torch.Tensor, pad: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad by `pad` and crop back to size at a random offset; returns (images, offsets (B, 2) as dy, dx)."""
    n, _, height, width = images.shape
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)
    if pad == 0:
        return images, offsets - pad
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
    on_device = offsets.to(images.device)
    rows = on_device[:, :1] + torch.arange(height, device=images.device)  # (B, H)
    cols = on_device[:, 1:] + torch.arange(width, device=images.device)  # (B, W)
    batch = torch.arange(n, device=images.device)[:, None, None]
    cropped = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return cropped.permute(0, 3, 1, 2).contiguous(), offsets - pad


def horizontal_flip(images: torch.Tensor, generator: torch.Generator,
                    probability: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Mirror each image left-right with `probability`; returns (images, flipped (B,) bool)."""
    flipped = torch.rand(len(images), generator=generator) < probability
    mask = flipped.to(images.device).view(-1, 1, 1, 1)
    return torch.where(mask, images.flip(3), images), flipped

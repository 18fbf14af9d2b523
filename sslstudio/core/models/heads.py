"""Heads shared by several tasks."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class UpsamplingDecoder(nn.Module):
    """Upsamples a stride-8 feature map back to a full-size image or spectrogram with `out_channels`."""

    def __init__(self, channels: int, out_channels: int = 1, width: int = 128):
        super().__init__()
        layers = [nn.Conv2d(channels, width, 1)]
        for _ in range(3):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv2d(width, width // 2, 3, padding=1), nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers.append(nn.Conv2d(width, out_channels, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return F.interpolate(self.body(features), size=size, mode="bilinear", align_corners=False)

    def reconstruct(self, backbone: nn.Module, inputs: torch.Tensor,
                    size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoded output at `size` and the backbone's embeddings, from one backbone pass."""
        features, embeddings = backbone.features_and_embedding(inputs)
        return self(features, size), embeddings


def mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    """The 2-layer projector/predictor of SimCLR, BYOL and their kin: Linear, BatchNorm, ReLU, Linear."""
    return nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, d_out))

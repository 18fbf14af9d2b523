"""What the dense-reconstruction tasks share: inpainting, masked spectrogram, denoising and colorization all
predict a map the size of their target (pixels, a log-mel, colour channels) with an upsampling decoder on
the backbone's feature map. The base owns the decoder, the forward pass and the live outputs; a task
declares `out_channels` and supplies `make_batch`, `preview`, `loss` and `shown` (solo-learn's base
methods work the same way: a method declares its parts, the base runs them).
"""
from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from torch import nn

from sslstudio.core.models.heads import UpsamplingDecoder
from sslstudio.core.tasks.base import Batch, PretextTask, PreviewItem, TaskOutput


class DenseTask(PretextTask):
    family = "reconstruction"
    cost = "low"
    out_channels: ClassVar[int]  # channels of the predicted map

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return UpsamplingDecoder(backbone.feature_channels, self.out_channels)

    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        predicted, embeddings = heads.reconstruct(backbone, batch.inputs, batch.targets.shape[-2:])
        return TaskOutput(self.loss(predicted, batch), embeddings)

    def output_items(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> list[PreviewItem]:
        predicted, _ = heads.reconstruct(backbone, batch.inputs, batch.targets.shape[-2:])
        return self.shown(predicted, batch)

    @abstractmethod
    def loss(self, predicted: torch.Tensor, batch: Batch) -> torch.Tensor:
        """The loss of the predicted map against the batch's targets."""

    @abstractmethod
    def shown(self, predicted: torch.Tensor, batch: Batch) -> list[PreviewItem]:
        """What the model made of each sample, one item each, for the live outputs and `preview --run`."""

"""BYOL: an online network predicts a slowly moving target network's projection of the other view.

Grill et al., "Bootstrap Your Own Latent", NeurIPS 2020. No negatives: the
predictor, the stop-gradient and the exponential-moving-average target keep
the embeddings from collapsing; the collapse metric shows whether they do.
The target's momentum rises from `ema_start` to 1 on a cosine schedule.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from sslstudio.core.losses.byol import negative_cosine
from sslstudio.core.models.heads import mlp
from sslstudio.core.tasks.args import setting
from sslstudio.core.tasks.base import Batch, TaskOutput
from sslstudio.core.tasks.momentum import cosine_momentum, follow
from sslstudio.core.tasks.two_views import TwoViewTask, ViewArgs


@dataclass(frozen=True)
class BYOLArgs(ViewArgs):
    ema_start: float = setting(0.99, "Momentum of the target network at the start; it rises to 1 by the end.",
                               min=0.9, max=1.0)
    hidden_dim: int = setting(1024, "Hidden width of the projector and predictor.", min=16, max=8192)


class BYOLHeads(nn.Module):
    def __init__(self, backbone: nn.Module, args: BYOLArgs):
        super().__init__()
        self.projector = mlp(backbone.embed_dim, args.hidden_dim, args.projection_dim)
        self.predictor = mlp(args.projection_dim, args.hidden_dim, args.projection_dim)
        self.target_backbone = copy.deepcopy(backbone)
        self.target_projector = copy.deepcopy(self.projector)
        for parameter in [*self.target_backbone.parameters(), *self.target_projector.parameters()]:
            parameter.requires_grad_(False)


class BYOL(TwoViewTask):
    name = "byol"
    summary = "Predict a slow-moving target network's view of the other crop; no negatives needed."
    reference = "Grill et al., Bootstrap Your Own Latent, NeurIPS 2020"
    Args = BYOLArgs
    family = "self-distillation"
    cost = "high"

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return BYOLHeads(backbone, self.args)

    def forward(self, backbone: nn.Module, heads: BYOLHeads, batch: Batch) -> TaskOutput:
        n = len(batch.targets)
        embeddings = backbone(batch.inputs)
        predicted = heads.predictor(heads.projector(embeddings))
        with torch.no_grad():
            target = heads.target_projector(heads.target_backbone(batch.inputs))
        loss = negative_cosine(predicted[:n], target[n:]) + negative_cosine(predicted[n:], target[:n])
        return TaskOutput(loss, embeddings[:n])

    def after_step(self, model: nn.Module, progress: float) -> None:
        heads = model.heads
        follow(((model.backbone, heads.target_backbone), (heads.projector, heads.target_projector)),
               cosine_momentum(self.args.ema_start, progress))

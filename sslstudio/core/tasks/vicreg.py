"""VICReg: two augmented views of each image, kept alike while every embedding dimension keeps its spread.

Bardes, Ponce and LeCun, ICLR 2022. A wide 2-layer expander (1024-D here, 8192 in the paper on
ImageNet) and the loss of `core.losses.vicreg`. It needs neither negatives nor large batches, which
suits CPUs and small GPUs; the views are SimCLR's.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from sslstudio.core.losses.vicreg import vicreg
from sslstudio.core.models.heads import mlp
from sslstudio.core.tasks.args import setting
from sslstudio.core.tasks.base import Batch, TaskOutput
from sslstudio.core.tasks.two_views import TwoViewTask, ViewArgs


@dataclass(frozen=True)
class VICRegArgs(ViewArgs):
    projection_dim: int = setting(1024, "Width of the expander whose outputs the loss sees; VICReg wants it "
                                        "wide (the paper: 8192).", min=64, max=8192)
    invariance_weight: float = setting(25.0, "Weight of the two views' mean squared difference.", min=0.0, max=100.0)
    variance_weight: float = setting(25.0, "Weight of the hinge that keeps each dimension's std at 1 or more.",
                                     min=0.0, max=100.0)
    covariance_weight: float = setting(1.0, "Weight of the penalty on dimensions that co-vary.", min=0.0, max=100.0)


class VICReg(TwoViewTask):
    name = "vicreg"
    summary = ("Two random views of each image must have alike embeddings, while every dimension keeps its "
               "spread and no two co-vary (no negatives, small batches work).")
    reference = "Bardes, Ponce and LeCun, VICReg: Variance-Invariance-Covariance Regularization, ICLR 2022"
    Args = VICRegArgs
    family = "redundancy reduction"
    cost = "medium"

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return mlp(backbone.embed_dim, self.args.projection_dim, self.args.projection_dim)

    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        n = len(batch.targets)
        embeddings = backbone(batch.inputs)
        expanded = heads(embeddings)
        a = self.args
        loss, parts = vicreg(expanded[:n], expanded[n:], a.invariance_weight, a.variance_weight, a.covariance_weight)
        return TaskOutput(loss, embeddings[:n], parts)

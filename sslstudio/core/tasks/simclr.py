"""SimCLR: two augmented views of each image, pulled together against all other views.

Chen et al., "A Simple Framework for Contrastive Learning of Visual
Representations", ICML 2020: a 2-layer projector to 128-D and the NT-Xent loss
at temperature 0.2 (the small-image setting of solo-learn).
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from sslstudio.core.losses.nt_xent import nt_xent
from sslstudio.core.models.heads import mlp
from sslstudio.core.tasks.args import setting
from sslstudio.core.tasks.base import Batch, TaskOutput
from sslstudio.core.tasks.two_views import TwoViewTask, ViewArgs


@dataclass(frozen=True)
class SimCLRArgs(ViewArgs):
    temperature: float = setting(0.2, "Softmax temperature of NT-Xent; lower sharpens the contrast.",
                                 min=0.01, max=1.0)


class SimCLR(TwoViewTask):
    name = "simclr"
    summary = "Two random views of each image (crop, flip, colour, grey, blur) must find each other (NT-Xent)."
    reference = "Chen et al., A Simple Framework for Contrastive Learning of Visual Representations, ICML 2020"
    Args = SimCLRArgs
    family = "contrastive"
    cost = "medium"

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return mlp(backbone.embed_dim, max(512, self.args.projection_dim), self.args.projection_dim)

    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        n = len(batch.targets)
        embeddings = backbone(batch.inputs)
        projected = heads(embeddings)
        loss, accuracy = nt_xent(projected[:n], projected[n:], self.args.temperature)
        return TaskOutput(loss, embeddings[:n], {"accuracy": accuracy})

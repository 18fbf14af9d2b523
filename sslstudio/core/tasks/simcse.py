"""Unsupervised SimCSE: the same sentence encoded twice, with dropout as the only augmentation.

Gao, Yao and Chen, "SimCSE: Simple Contrastive Learning of Sentence Embeddings",
EMNLP 2021. The two dropout masks make two views; every other sentence in the
batch is a negative. The loss here is NT-Xent, which also counts the other
sentences of the same pass as negatives (SimCSE counts only the other pass).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from sslstudio.core.losses.nt_xent import nt_xent
from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.base import Batch, PretextTask, PreviewItem, PreviewSample, TaskOutput


@dataclass(frozen=True)
class SimCSEArgs(TaskArgs):
    temperature: float = setting(0.05, "Softmax temperature of the contrastive loss (the paper's 0.05).",
                                 min=0.01, max=1.0)


class SimCSE(PretextTask):
    name = "simcse"
    modality = "text"
    summary = "Encode each text twice with different dropout; each encoding must find its twin in the batch."
    reference = "Gao et al., SimCSE: Simple Contrastive Learning of Sentence Embeddings, EMNLP 2021"
    Args = SimCSEArgs
    family = "contrastive"
    cost = "medium"
    backbones = ("transformer_tiny", "transformer_small")  # they read each token in its context
    stochastic_input = False  # the views differ only by dropout inside the model

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return nn.Sequential(nn.Linear(backbone.embed_dim, backbone.embed_dim), nn.Tanh())  # BERT-style pooler

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        return Batch(raw, torch.arange(len(raw), device=raw.device))

    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        both = backbone(torch.cat([batch.inputs, batch.inputs]))  # one pass, two dropout masks
        n = len(batch.inputs)
        projected = heads(both)
        loss, accuracy = nt_xent(projected[:n], projected[n:], self.args.temperature)
        return TaskOutput(loss, both[:n], {"accuracy": accuracy})

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, torch.Generator())
        to_token = self.pipeline.tokenizer.id_to_token
        samples = []
        for i in range(batch.size):
            length = int((raw[i] != 0).sum())
            tokens = [to_token(t) for t in batch.inputs[i, :length].tolist()]
            samples.append(PreviewSample(i, (PreviewItem(
                "tokens", "model input, encoded twice with different dropout masks", tokens,
                params={"tokens": length, "dropout": 0.1}),)))
        return samples

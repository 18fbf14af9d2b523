"""Contrastive crops of audio: two segments of the same clip are positives, other clips negatives.

Saeed, Grangier and Zeghidour, "Contrastive Learning of General-Purpose Audio
Representations" (COLA), ICASSP 2021; with the augmentations of BYOL-A
(Niizumi et al., IJCNN 2021) as options: mixing in another clip of the batch
in the linear-power domain (log-mixup-exp) and a random resized crop of the
spectrogram. The similarity here is cosine in NT-Xent (COLA uses bilinear).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from sslstudio.core.errors import ArgsError
from sslstudio.core.losses.nt_xent import nt_xent
from sslstudio.core.models.heads import mlp
from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.augment import resized_crop
from sslstudio.core.tasks.base import Batch, PretextTask, PreviewItem, PreviewSample, TaskOutput, make_generator


@dataclass(frozen=True)
class AudioContrastiveArgs(TaskArgs):
    segment_seconds: float = setting(0.5, "Length of each crop; at most the clip length.", min=0.1, max=30.0)
    temperature: float = setting(0.2, "Softmax temperature of NT-Xent.", min=0.01, max=1.0)
    mixup_ratio: float = setting(0.4, "Most of another clip mixed into each crop (BYOL-A); 0 turns it off.",
                                 min=0.0, max=0.9)
    crop_min_scale: float = setting(0.6, "Random resized crop of the spectrogram: smallest area kept; 1 turns "
                                         "it off.", min=0.1, max=1.0)
    projection_dim: int = setting(128, "Output size of the projection head the loss sees.", min=8, max=4096)


class AudioContrastive(PretextTask):
    name = "audio_contrastive"
    modality = "audio"
    summary = "Two crops of the same clip must find each other among the other clips (COLA, BYOL-A mixing)."
    reference = "Saeed et al., COLA, ICASSP 2021; Niizumi et al., BYOL for Audio, IJCNN 2021"
    Args = AudioContrastiveArgs
    family = "contrastive"
    cost = "medium"

    def __init__(self, args: AudioContrastiveArgs, pipeline):
        super().__init__(args, pipeline)
        if args.segment_seconds > pipeline.spec.audio_seconds:
            raise ArgsError(f"setting 'segment_seconds' must be at most the clip length "
                            f"({pipeline.spec.audio_seconds} s); got {args.segment_seconds}")

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return mlp(backbone.embed_dim, max(512, self.args.projection_dim), self.args.projection_dim)

    def _crop(self, raw: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        n, length = raw.shape
        segment = int(self.args.segment_seconds * self.pipeline.spec.sample_rate)
        starts = torch.randint(0, length - segment + 1, (n,), generator=generator)
        index = (starts.view(-1, 1) + torch.arange(segment)).to(raw.device)
        wave = torch.gather(raw.float(), 1, index)
        spec = self.pipeline.preprocess(wave)
        partners = torch.randint(0, n, (n,), generator=generator)
        weight = torch.rand(n, generator=generator) * self.args.mixup_ratio
        if self.args.mixup_ratio > 0:
            spec = self._log_mixup_exp(spec, spec[partners.to(spec.device)], weight.to(spec.device))
        box = torch.tensor([[0.0, 0.0, spec.shape[-1], spec.shape[-2]]]).repeat(n, 1)
        if self.args.crop_min_scale < 1:
            spec, box = resized_crop(spec, (self.args.crop_min_scale, 1.0), generator)
        return spec, {"start_s": starts / self.pipeline.spec.sample_rate, "mix_weight": weight,
                      "mixed_with": partners, "crop_box": box, "wave": wave}

    def _log_mixup_exp(self, spec, other, weight):
        """Mix in linear power, then back to the standardised log scale."""
        mean, std = self.pipeline.preprocess.mean, self.pipeline.preprocess.std
        w = weight.view(-1, 1, 1, 1)
        power = (1 - w) * torch.exp(spec * std + mean) + w * torch.exp(other * std + mean)
        return (torch.log(power) - mean) / std

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        first, params1 = self._crop(raw, generator)
        second, params2 = self._crop(raw, generator)
        params = {f"view1_{k}": v for k, v in params1.items()} | {f"view2_{k}": v for k, v in params2.items()}
        return Batch(torch.cat([first, second]), torch.arange(len(raw), device=raw.device), params)

    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        n = len(batch.targets)
        embeddings = backbone(batch.inputs)
        loss, accuracy = nt_xent(*heads(embeddings).split(n), self.args.temperature)
        return TaskOutput(loss, embeddings[:n], {"accuracy": accuracy})

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        n, rate = len(raw), self.pipeline.spec.sample_rate
        samples = []
        for i in range(n):
            items = []
            for v in (1, 2):
                p = {k.removeprefix(f"view{v}_"): t[i] for k, t in batch.params.items() if k.startswith(f"view{v}_")}
                params = {"start_s": round(float(p["start_s"]), 3), "mixed_with": int(p["mixed_with"]),
                          "mix_weight": round(float(p["mix_weight"]), 2),
                          "crop_xywh": tuple(round(float(c), 1) for c in p["crop_box"])}
                items.append(PreviewItem("spectrogram", f"crop {v}", batch.inputs[i + (v - 1) * n, 0].cpu().numpy(),
                                         params=params))
                items.append(PreviewItem("audio", f"crop {v} (before mixing)", p["wave"].cpu().numpy(),
                                         params={"sample_rate": rate}))
            samples.append(PreviewSample(i, tuple(items)))
        return samples

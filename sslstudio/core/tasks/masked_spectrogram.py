"""Masked log-mel spectrogram reconstruction.

Time and frequency bands of the log-mel spectrogram are hidden, as in
SpecAugment (Park et al., Interspeech 2019), and the network reconstructs
them; the loss counts masked bins only, as in masked-autoencoder audio
pretraining (Baade et al., MAE-AST, 2022; Huang et al., Audio-MAE, NeurIPS 2022).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from sslstudio.core.errors import ArgsError
from sslstudio.core.losses.reconstruction import masked_mse
from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.base import Batch, PreviewItem, PreviewSample, make_generator
from sslstudio.core.tasks.dense import DenseTask


@dataclass(frozen=True)
class MaskedSpectrogramArgs(TaskArgs):
    time_masks: int = setting(2, "How many time bands to hide per clip.", min=0, max=10)
    time_mask_width: float = setting(0.2, "Widest time band, as a fraction of the clip.", min=0.0, max=1.0)
    freq_masks: int = setting(2, "How many mel-frequency bands to hide per clip.", min=0, max=10)
    freq_mask_width: float = setting(0.2, "Widest frequency band, as a fraction of the mel bands.",
                                     min=0.0, max=1.0)

    def check(self) -> None:
        if self.time_masks * self.time_mask_width == 0 and self.freq_masks * self.freq_mask_width == 0:
            raise ArgsError("setting 'time_masks'/'freq_masks' must hide something: all masks are empty")


def band_mask(n: int, length: int, count: int, max_fraction: float, generator: torch.Generator) -> torch.Tensor:
    """(n, length) bool: `count` bands per row, each 50-100 % of `max_fraction * length` wide."""
    if count == 0 or max_fraction == 0:
        return torch.zeros(n, length, dtype=torch.bool)
    widest = max(1, round(max_fraction * length))
    widths = (widest * (0.5 + 0.5 * torch.rand(n, count, 1, generator=generator))).long().clamp(min=1)
    starts = (torch.rand(n, count, 1, generator=generator) * (length - widths + 1)).long()
    positions = torch.arange(length).view(1, 1, -1)
    return ((positions >= starts) & (positions < starts + widths)).any(dim=1)


class MaskedSpectrogram(DenseTask):
    name = "masked_spectrogram"
    modality = "audio"
    summary = "Hide time and frequency bands of the log-mel spectrogram and reconstruct them."
    reference = ("Park et al., SpecAugment, Interspeech 2019; "
                 "Huang et al., Masked Autoencoders that Listen, NeurIPS 2022")
    Args = MaskedSpectrogramArgs
    out_channels = 1

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        spec = self.pipeline.preprocess(raw)
        n, _, mels, frames = spec.shape
        args = self.args
        in_time = band_mask(n, frames, args.time_masks, args.time_mask_width, generator)
        in_freq = band_mask(n, mels, args.freq_masks, args.freq_mask_width, generator)
        mask = (in_time[:, None, :] | in_freq[:, :, None]).unsqueeze(1).to(spec.device)
        return Batch(spec.masked_fill(mask, 0.0), spec, {"mask": mask, "time_mask": in_time, "freq_mask": in_freq})

    def loss(self, predicted: torch.Tensor, batch: Batch) -> torch.Tensor:
        return masked_mse(predicted, batch.targets, batch.params["mask"])

    def shown(self, predicted: torch.Tensor, batch: Batch) -> list[PreviewItem]:
        mask = batch.params["mask"]
        filled = torch.where(mask, predicted, batch.inputs)
        return [PreviewItem("spectrogram", "model's reconstruction", filled[i, 0].cpu().numpy(),
                            mask[i, 0].cpu().numpy(),
                            {"masked_mse": round(float(masked_mse(predicted[i], batch.targets[i], mask[i])), 4)})
                for i in range(batch.size)]

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        hop_seconds = 1.0 / 100  # LogMel uses a 10 ms hop
        samples = []
        for i in range(batch.size):
            mask = batch.params["mask"][i, 0].cpu().numpy()
            params = {"masked_fraction": round(float(mask.mean()), 3),
                      "time_bands_s": _bands(batch.params["time_mask"][i], hop_seconds),
                      "mel_bands": _bands(batch.params["freq_mask"][i], 1)}
            samples.append(PreviewSample(i, (
                PreviewItem("spectrogram", "masked input", batch.inputs[i, 0].cpu().numpy(), mask, params),
                PreviewItem("spectrogram", "target (full log-mel)", batch.targets[i, 0].cpu().numpy()),
                PreviewItem("audio", "clip", raw[i].cpu().numpy(),
                            params={"sample_rate": self.pipeline.spec.sample_rate}),
            )))
        return samples


def _bands(row: torch.Tensor, unit: float) -> list[tuple[float, float]]:
    """Runs of True in a 1-D bool tensor as (start, end) in `unit`s."""
    padded = torch.cat([torch.tensor([False]), row.cpu(), torch.tensor([False])]).int()
    edges = torch.diff(padded).nonzero().flatten().tolist()
    return [(round(s * unit, 3), round(e * unit, 3)) for s, e in zip(edges[::2], edges[1::2])]

"""Reconstruct the clean log-mel spectrogram from a distorted clip.

The seed's "reconstruct distorted audio signals", in the spirit of denoising
autoencoders (Vincent et al., ICML 2008) and speech enhancement pretraining
(e.g. PASE+, Ravanelli et al., ICASSP 2020). Each clip gets any mix of: white
noise at a random SNR, hard clipping, a low-pass filter and dropped segments;
every sampled parameter is kept for the preview.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from sslstudio.core.errors import ArgsError
from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.base import Batch, PreviewItem, PreviewSample, make_generator
from sslstudio.core.tasks.dense import DenseTask


@dataclass(frozen=True)
class DenoisingArgs(TaskArgs):
    snr_min_db: float = setting(0.0, "Lowest signal-to-noise ratio of the added white noise, in dB.", min=-20, max=60)
    snr_max_db: float = setting(20.0, "Highest signal-to-noise ratio, in dB.", min=-20, max=60)
    clip_prob: float = setting(0.3, "Chance of hard clipping at 10-50 % of the clip's peak.", min=0.0, max=1.0)
    lowpass_prob: float = setting(0.3, "Chance of a low-pass filter at 500-4000 Hz.", min=0.0, max=1.0)
    drop_prob: float = setting(0.3, "Chance of silencing 1-3 segments of up to 10 % of the clip each.",
                               min=0.0, max=1.0)

    def check(self) -> None:
        if self.snr_min_db > self.snr_max_db:
            raise ArgsError("setting 'snr_min_db' must not exceed 'snr_max_db'")


def butterworth_lowpass(wave: torch.Tensor, rate: int, cutoff_hz: torch.Tensor) -> torch.Tensor:
    """A second-order Butterworth magnitude response, one cutoff per row (0 = leave the row alone).

    Applied in the frequency domain with zero phase, so the whole batch is one
    FFT: a per-clip IIR filter (torchaudio's biquad) runs sample by sample and
    took most of a GPU step.
    """
    if not bool((cutoff_hz > 0).any()):
        return wave
    spectrum = torch.fft.rfft(wave, dim=1)
    freqs = torch.fft.rfftfreq(wave.shape[1], 1.0 / rate, device=wave.device)
    ratio = freqs.view(1, -1) / cutoff_hz.clamp(min=1e-6).view(-1, 1)
    gain = torch.where(cutoff_hz.view(-1, 1) > 0, torch.rsqrt(1 + ratio.pow(4)), torch.ones_like(ratio))
    return torch.fft.irfft(spectrum * gain, n=wave.shape[1], dim=1)


def dropped_segments(n: int, length: int, chance: float, generator: torch.Generator) -> torch.Tensor:
    """(n, length) bool: with `chance`, 1-3 silenced segments of up to 10 % of the clip each."""
    count = torch.where(torch.rand(n, generator=generator) < chance,
                        torch.randint(1, 4, (n,), generator=generator), torch.zeros(n, dtype=torch.long))
    width = (length * 0.1 * torch.rand(n, 3, generator=generator)).long()
    start = ((length - width) * torch.rand(n, 3, generator=generator)).long()
    used = torch.arange(3).view(1, 3) < count.view(-1, 1)
    t = torch.arange(length).view(1, 1, -1)
    inside = (t >= start.unsqueeze(-1)) & (t < (start + width).unsqueeze(-1)) & used.unsqueeze(-1)
    return inside.any(dim=1)


class AudioDenoising(DenseTask):
    name = "audio_denoising"
    modality = "audio"
    summary = "Distort the clip (noise, clipping, low-pass, dropouts) and reconstruct the clean log-mel."
    reference = "Vincent et al., Denoising Autoencoders, ICML 2008; Ravanelli et al., PASE+, ICASSP 2020"
    Args = DenoisingArgs
    out_channels = 1

    def distort(self, wave: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        a, n, length = self.args, len(wave), wave.shape[1]
        rate = self.pipeline.spec.sample_rate
        uniform = lambda low, high: low + (high - low) * torch.rand(n, generator=generator)  # noqa: E731
        snr = uniform(a.snr_min_db, a.snr_max_db)
        power = wave.pow(2).mean(1).clamp(min=1e-10).cpu()
        noise = torch.randn(n, length, generator=generator) * torch.sqrt(power / 10 ** (snr / 10)).view(-1, 1)
        out = wave + noise.to(wave.device)
        clip = torch.where(torch.rand(n, generator=generator) < a.clip_prob, uniform(0.1, 0.5), torch.zeros(n))
        peak = out.abs().amax(1).cpu() * clip
        limit = torch.where(clip > 0, peak, torch.full((n,), float("inf"))).view(-1, 1).to(wave.device)
        out = torch.maximum(torch.minimum(out, limit), -limit)
        cutoff = torch.where(torch.rand(n, generator=generator) < a.lowpass_prob, uniform(500, 4000), torch.zeros(n))
        out = butterworth_lowpass(out, rate, cutoff.to(wave.device))
        dropped = dropped_segments(n, length, a.drop_prob, generator)
        out = out.masked_fill(dropped.to(wave.device), 0.0)
        return out, {"snr_db": snr, "clip_level": clip, "lowpass_hz": cutoff,
                     "dropped_share": dropped.float().mean(1)}

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        distorted, params = self.distort(raw.float(), generator)
        params["wave"] = distorted
        return Batch(self.pipeline.preprocess(distorted), self.pipeline.preprocess(raw), params)

    def loss(self, predicted: torch.Tensor, batch: Batch) -> torch.Tensor:
        return F.mse_loss(predicted.float(), batch.targets.float())

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        rate = self.pipeline.spec.sample_rate
        samples = []
        for i in range(batch.size):
            p = batch.params
            params = {"snr_db": round(float(p["snr_db"][i]), 1), "clip_level": round(float(p["clip_level"][i]), 2),
                      "lowpass_hz": round(float(p["lowpass_hz"][i])),
                      "dropped_share": round(float(p["dropped_share"][i]), 3)}
            samples.append(PreviewSample(i, (
                PreviewItem("spectrogram", "distorted input", batch.inputs[i, 0].cpu().numpy(), params=params),
                PreviewItem("spectrogram", "clean target", batch.targets[i, 0].cpu().numpy()),
                PreviewItem("audio", "distorted clip", p["wave"][i].cpu().numpy(), params={"sample_rate": rate}),
                PreviewItem("audio", "clean clip", raw[i].cpu().numpy(), params={"sample_rate": rate}),
            )))
        return samples

    def shown(self, predicted: torch.Tensor, batch: Batch) -> list[PreviewItem]:
        return [PreviewItem("spectrogram", "model's clean estimate", predicted[i, 0].float().cpu().numpy(),
                            params={"mse": round(float(F.mse_loss(predicted[i], batch.targets[i])), 4)})
                for i in range(batch.size)]

"""Input pipelines: decoded samples -> a raw tensor in memory -> the model's input.

The raw tensor is what training indexes (uint8 images, float waveforms, token
ids). `preprocess` is an nn.Module (normalisation, log-mel), so it moves to the
device with the model and is exported with it. Its statistics are fitted once
on the pretraining data and saved with the run, so embedding and probing use
exactly what training used.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sslstudio.core.data.dataset import SampleSet
from sslstudio.core.data.loaders import InputSpec

N_MELS = 64


class ImageNormalize(nn.Module):
    """uint8 (B,3,H,W), or float already in [0, 1] (augmented views), -> float standardised per channel."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.full((1, 3, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, 3, 1, 1), 0.25))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        unit = x.float() / 255.0 if x.dtype == torch.uint8 else x
        return (unit - self.mean) / self.std

    def to_display(self, x: torch.Tensor) -> np.ndarray:
        """Model input back to uint8 HWC images, for previews."""
        pixels = ((x * self.std + self.mean).clamp(0, 1) * 255).round().byte()
        return pixels.permute(0, 2, 3, 1).cpu().numpy()


class LogMel(nn.Module):
    """Waveform (B,T) -> standardised log-mel (B,1,mels,frames): 25 ms windows, 10 ms hop."""

    def __init__(self, sample_rate: int):
        super().__init__()
        import torchaudio

        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=int(0.025 * sample_rate) if sample_rate >= 8000 else 256,
            hop_length=int(0.010 * sample_rate), n_mels=N_MELS)
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("std", torch.ones(()))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        spec = torch.log(self.mel(wave.float()) + 1e-6)
        return ((spec - self.mean) / self.std).unsqueeze(1)


class Pipeline:
    """One modality's raw-tensor builder, preprocess module and (for text) tokenizer."""

    def __init__(self, modality: str, spec: InputSpec, tokenizer=None):
        self.modality = modality
        self.spec = spec
        self.tokenizer = tokenizer
        if modality == "image":
            self.preprocess: nn.Module = ImageNormalize()
        elif modality == "audio":
            self.preprocess = LogMel(spec.sample_rate)
        else:
            self.preprocess = nn.Identity()

    # -- fitting on the pretraining data
    @classmethod
    def fit(cls, samples: SampleSet) -> "Pipeline":
        tokenizer = None
        if samples.modality == "text":
            from sslstudio.core.models.tokenizer import train_tokenizer

            tokenizer = train_tokenizer(samples.data, samples.spec.vocab_size, samples.spec.text_tokens)
        pipeline = cls(samples.modality, samples.spec, tokenizer)
        pipeline._fit_statistics(pipeline.raw(samples))
        return pipeline

    @torch.no_grad()
    def _fit_statistics(self, raw: torch.Tensor) -> None:
        sample = raw[torch.linspace(0, len(raw) - 1, min(len(raw), 1024)).long()]
        if self.modality == "image":
            pixels = sample.float() / 255.0
            self.preprocess.mean.copy_(pixels.mean(dim=(0, 2, 3)).view(1, 3, 1, 1))
            self.preprocess.std.copy_(pixels.std(dim=(0, 2, 3)).clamp(min=1e-3).view(1, 3, 1, 1))
        elif self.modality == "audio":
            spec = torch.log(self.preprocess.mel(sample) + 1e-6)
            self.preprocess.mean.copy_(spec.mean())
            self.preprocess.std.copy_(spec.std().clamp(min=1e-3))

    # -- tensors
    def raw(self, samples: SampleSet) -> torch.Tensor:
        """The in-memory training tensor for these samples."""
        if self.modality == "image":
            return torch.from_numpy(np.ascontiguousarray(samples.data.transpose(0, 3, 1, 2)))
        if self.modality == "audio":
            return torch.from_numpy(samples.data)
        return self.encode_texts(samples.data)

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        length = self.spec.text_tokens
        ids = torch.zeros((len(texts), length), dtype=torch.long)
        for i, encoding in enumerate(self.tokenizer.encode_batch(texts)):
            tokens = encoding.ids[:length]
            ids[i, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        return ids

    def backbone_context(self) -> dict:
        vocab = self.tokenizer.get_vocab_size() if self.tokenizer is not None else 0
        return {"vocab_size": vocab, "max_tokens": self.spec.text_tokens}

    # -- persistence beside a run
    def save(self, run_dir: Path) -> None:
        from sslstudio.core.training.atomic import atomic_write_text

        stats = {k: v.tolist() for k, v in self.preprocess.state_dict().items()
                 if k in ("mean", "std")}
        state = {"modality": self.modality, "spec": asdict(self.spec), "statistics": stats}
        atomic_write_text(run_dir / "pipeline.json", json.dumps(state, indent=1))
        if self.tokenizer is not None:
            atomic_write_text(run_dir / "tokenizer.json", self.tokenizer.to_str())

    @classmethod
    def load(cls, run_dir: Path) -> "Pipeline":
        state = json.loads((run_dir / "pipeline.json").read_text())
        tokenizer = None
        if state["modality"] == "text":
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(run_dir / "tokenizer.json"))
        pipeline = cls(state["modality"], InputSpec(**state["spec"]), tokenizer)
        for name, value in state["statistics"].items():
            getattr(pipeline.preprocess, name).copy_(torch.tensor(value))
        return pipeline

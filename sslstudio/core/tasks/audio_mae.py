"""Masked spectrogram patches (MSM-MAE, Audio-MAE): a Vision Transformer encodes a quarter of the
log-mel spectrogram's patches and a small decoder reconstructs the rest.

Niizumi et al., "Masked Spectrogram Modeling using Masked Autoencoders for Learning General-purpose
Audio Representation", HEAR 2021 (PMLR 166); Huang et al., "Masked Autoencoders that Listen", NeurIPS
2022. As there: the log-mel spectrogram is cut into square patches (8 x 8 here: 8 mel bands by 80 ms,
for 64 bands), 75 % are hidden at random, the encoder sees only the others, and the loss is the
error on the hidden patches, each normalised. Unlike `masked_spectrogram`, which hides whole bands
and asks a CNN to fill them, the encoder here never sees a hidden patch and costs a quarter of a full
pass. The live output is the reconstructed spectrogram.
"""
from __future__ import annotations

import torch
from torch import nn

from sslstudio.core.models.vit import SPECTROGRAM_PATCH
from sslstudio.core.tasks.base import Batch, PreviewItem, PreviewSample, make_generator
from sslstudio.core.tasks.mae import MAEDecoder, MaskedPatchArgs, MaskedPatchTask


class AudioMAE(MaskedPatchTask):
    name = "audio_mae"
    modality = "audio"
    summary = ("Cut the log-mel spectrogram into patches, hide 75 %; a Vision Transformer encodes the rest and a "
               "small decoder reconstructs what is hidden.")
    reference = ("Niizumi et al., Masked Spectrogram Modeling using Masked Autoencoders (MSM-MAE), HEAR 2021; "
                 "Huang et al., Masked Autoencoders that Listen, NeurIPS 2022")
    Args = MaskedPatchArgs
    family = "reconstruction"
    cost = "low"
    backbones = ("mel_vit_tiny",)
    channels = 1

    @property
    def patch(self) -> int:
        return SPECTROGRAM_PATCH

    def pictures(self, raw: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        return self.pipeline.preprocess(raw), {}

    def output_items(self, backbone: nn.Module, heads: MAEDecoder, batch: Batch) -> list[PreviewItem]:
        rebuilt, errors = self.reconstruction(backbone, heads, batch)
        rows, columns = (side // self.patch for side in batch.inputs.shape[-2:])
        hidden = self.hidden_pixels(batch.params["hidden"], rows, columns).cpu().numpy()
        return [PreviewItem("spectrogram", "model's reconstruction", rebuilt[i, 0].cpu().numpy(), hidden[i],
                            {"hidden_mse": round(float(errors[i]), 4)}) for i in range(batch.size)]

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        rows, columns = (side // self.patch for side in batch.inputs.shape[-2:])
        hidden = self.hidden_pixels(batch.params["hidden"], rows, columns).cpu().numpy()
        samples = []
        for i in range(batch.size):
            params = {"hidden_share": round(float(hidden[i].mean()), 3), "patch": f"{self.patch} mels x "
                      f"{self.patch * 10} ms", "patches": rows * columns}
            samples.append(PreviewSample(i, (
                PreviewItem("spectrogram", "what the encoder sees (hidden patches blank)",
                            batch.inputs[i, 0].cpu().numpy(), hidden[i], params),
                PreviewItem("spectrogram", "target (full log-mel)", batch.targets[i, 0].cpu().numpy()),
                PreviewItem("audio", "clip", raw[i].cpu().numpy(),
                            params={"sample_rate": self.pipeline.spec.sample_rate}),
            )))
        return samples

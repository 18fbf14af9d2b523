"""MAE: a Vision Transformer encodes only the visible quarter of an image's patches; a small decoder
reconstructs the hidden ones.

He et al., "Masked Autoencoders Are Scalable Vision Learners", CVPR 2022. As there: 75 % of the patches
hidden at random, the encoder sees the rest and never a mask token (so it costs a quarter of a full
pass), a narrow decoder puts learned mask tokens in the gaps with their positions, and the loss is
the mean squared error on the hidden patches, each normalised by its own mean and variance
(`norm_pix_loss`). Augmentation is a random resized crop and a flip. The live output shows the
reconstruction. Unlike `inpainting`, which asks a CNN to fill holes in a whole image, this is the
method that scales: use `vit_small` at 224 px on a GPU.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from sslstudio.core.models.vit import patch_size_for, sincos_position, transformer
from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.augment import resized_crop_and_flip
from sslstudio.core.tasks.base import Batch, PretextTask, PreviewItem, PreviewSample, TaskOutput, make_generator


@dataclass(frozen=True)
class MaskedPatchArgs(TaskArgs):
    mask_ratio: float = setting(0.75, "Share of the patches hidden from the encoder.", min=0.1, max=0.95)
    norm_pix_loss: bool = setting(True, "Reconstruct each patch normalised by its own mean and spread (the paper's "
                                        "better representation).")
    decoder_dim: int = setting(128, "Width of the decoder (the paper: 512 for a 768-wide encoder).", min=16,
                               max=1024)
    decoder_depth: int = setting(2, "Transformer blocks in the decoder (the paper: 8).", min=1, max=12)


@dataclass(frozen=True)
class MAEArgs(MaskedPatchArgs):
    crop_min_scale: float = setting(0.2, "Smallest random crop, as a share of the image area.", min=0.05, max=1.0)
    flip: bool = setting(True, "Mirror half of the images left-right.")


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, N, patch * patch * C), row by row; H and W multiples of `patch`."""
    b, c, h, w = images.shape
    x = images.reshape(b, c, h // patch, patch, w // patch, patch)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(b, (h // patch) * (w // patch), patch * patch * c)


def unpatchify(patches: torch.Tensor, patch: int, channels: int, rows: int, columns: int) -> torch.Tensor:
    b = patches.shape[0]
    x = patches.reshape(b, rows, columns, patch, patch, channels)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(b, channels, rows * patch, columns * patch)


class MAEDecoder(nn.Module):
    def __init__(self, encoder_dim: int, patch: int, channels: int, args: MaskedPatchArgs):
        super().__init__()
        self.embed = nn.Linear(encoder_dim, args.decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, args.decoder_dim))
        nn.init.normal_(self.mask_token, std=0.02)
        self.blocks = transformer(args.decoder_dim, args.decoder_depth, heads=4)
        self.norm = nn.LayerNorm(args.decoder_dim)
        self.predict = nn.Linear(args.decoder_dim, patch * patch * channels)

    def forward(self, visible: torch.Tensor, keep: torch.Tensor, rows: int, columns: int) -> torch.Tensor:
        """Every patch's prediction (B, N, p*p*C) from the visible tokens at positions `keep`."""
        b, n = len(visible), rows * columns
        tokens = self.mask_token.to(visible.dtype).expand(b, n, -1).clone()
        tokens.scatter_(1, keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]), self.embed(visible))
        tokens = tokens + sincos_position(tokens.shape[-1], rows, columns, tokens.device).to(tokens.dtype)
        return self.predict(self.norm(self.blocks(tokens)))


class MaskedPatchTask(PretextTask):
    """What MAE on images and on spectrograms share: draw the hidden patches, encode the visible ones,
    decode every one, score the hidden ones. A subclass makes the (B, C, H, W) picture to patch."""

    channels: ClassVar[int]

    @property
    def patch(self) -> int:
        raise NotImplementedError

    def pictures(self, raw: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        """(standardised pictures (B, C, H, W), the draws that made them)."""
        raise NotImplementedError

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return MAEDecoder(backbone.embed_dim, backbone.patch, self.channels, self.args)

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        pictures, params = self.pictures(raw, generator)
        patch = self.patch
        rows, columns = -(-pictures.shape[-2] // patch), -(-pictures.shape[-1] // patch)
        # A side that is not a multiple of the patch is padded with the data mean (0 after standardising).
        pictures = F.pad(pictures, (0, columns * patch - pictures.shape[-1], 0, rows * patch - pictures.shape[-2]))
        count = rows * columns
        visible = max(1, round(count * (1 - self.args.mask_ratio)))
        order = torch.rand(len(raw), count, generator=generator).argsort(dim=1)
        keep = order[:, :visible].sort(dim=1).values
        hidden = torch.ones(len(raw), count, dtype=torch.bool)
        hidden.scatter_(1, keep, False)
        device = pictures.device
        # The encoder gathers the visible patches only; the hidden ones are blanked in the input as well, so
        # what the preview shows is exactly what the encoder can see.
        inputs = pictures.masked_fill(self.hidden_pixels(hidden, rows, columns).unsqueeze(1).to(device), 0.0)
        return Batch(inputs, pictures, {"keep": keep.to(device), "hidden": hidden.to(device), **params})

    def hidden_pixels(self, hidden: torch.Tensor, rows: int, columns: int) -> torch.Tensor:
        """(B, N) hidden patches -> (B, H, W) hidden pixels."""
        patch = self.patch
        grid = hidden.reshape(-1, rows, columns)
        return grid.repeat_interleave(patch, 1).repeat_interleave(patch, 2)

    def _targets(self, pictures: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(patches as the loss sees them, each patch's mean, its std), normalised per patch if asked."""
        patches = patchify(pictures, self.patch)
        if not self.args.norm_pix_loss:
            return patches, torch.zeros_like(patches[..., :1]), torch.ones_like(patches[..., :1])
        mean, var = patches.mean(-1, keepdim=True), patches.var(-1, keepdim=True)
        std = (var + 1e-6).sqrt()
        return (patches - mean) / std, mean, std

    def _predict(self, backbone: nn.Module, heads: MAEDecoder, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        keep = batch.params["keep"]
        visible = backbone.encode(batch.inputs, keep)
        rows, columns = backbone.grid(batch.inputs)
        return heads(visible, keep, rows, columns), visible.mean(1)

    def forward(self, backbone: nn.Module, heads: MAEDecoder, batch: Batch) -> TaskOutput:
        predicted, visible_mean = self._predict(backbone, heads, batch)
        targets, _, _ = self._targets(batch.targets)
        hidden = batch.params["hidden"].to(predicted.dtype)
        per_patch = (predicted.float() - targets.float()).pow(2).mean(-1)
        loss = (per_patch * hidden).sum() / hidden.sum().clamp(min=1.0)
        # The health plots want whole-input embeddings, which a masked pass does not give; the mean of the
        # visible tokens is the encoder's view of the quarter it saw.
        return TaskOutput(loss, visible_mean)

    def reconstruction(self, backbone: nn.Module, heads: MAEDecoder, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(the reconstructed pictures: visible patches as given, hidden ones from the decoder, put back at the
        true patch's mean and spread as the paper shows them; each picture's error on its hidden patches)."""
        predicted, _ = self._predict(backbone, heads, batch)
        targets, mean, std = self._targets(batch.targets)
        hidden = batch.params["hidden"].unsqueeze(-1)
        rebuilt = torch.where(hidden, predicted * std + mean, targets * std + mean)
        rows, columns = backbone.grid(batch.inputs)
        errors = ((predicted - targets).pow(2).mean(-1) * hidden[..., 0]).sum(1) / hidden[..., 0].sum(1)
        return unpatchify(rebuilt, self.patch, self.channels, rows, columns), errors


class MAE(MaskedPatchTask):
    name = "mae"
    modality = "image"
    summary = ("Hide 75 % of an image's patches; a Vision Transformer encodes the rest and a small decoder "
               "reconstructs what is hidden.")
    reference = "He et al., Masked Autoencoders Are Scalable Vision Learners, CVPR 2022"
    Args = MAEArgs
    family = "reconstruction"
    cost = "low"
    backbones = ("vit_tiny", "vit_small")
    channels = 3

    @property
    def patch(self) -> int:
        return patch_size_for(self.pipeline.spec.image_size)

    def pictures(self, raw: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        images, box, flipped = resized_crop_and_flip(raw, (self.args.crop_min_scale, 1.0), generator,
                                                     size=self.pipeline.spec.image_size,
                                                     flip_probability=0.5 if self.args.flip else None)
        return self.pipeline.preprocess(images.float() / 255.0), {"crop_box": box, "flipped": flipped}

    def output_items(self, backbone: nn.Module, heads: MAEDecoder, batch: Batch) -> list[PreviewItem]:
        rebuilt, errors = self.reconstruction(backbone, heads, batch)
        images = self.pipeline.preprocess.to_display(rebuilt)
        return [PreviewItem("image", "model's reconstruction", images[i],
                            params={"hidden_mse": round(float(errors[i]), 4)}) for i in range(batch.size)]

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        rows, columns = (side // self.patch for side in batch.inputs.shape[-2:])
        hidden = self.hidden_pixels(batch.params["hidden"], rows, columns).cpu()
        shown = self.pipeline.preprocess.to_display(batch.inputs)
        full = self.pipeline.preprocess.to_display(batch.targets)
        samples = []
        for i in range(batch.size):
            x, y, w, h = (round(float(v), 1) for v in batch.params["crop_box"][i])
            params = {"hidden_share": round(float(hidden[i].float().mean()), 3), "patch_px": self.patch,
                      "crop_xywh": (x, y, w, h), "flipped": bool(batch.params["flipped"][i])}
            samples.append(PreviewSample(i, (
                PreviewItem("image", "what the encoder sees (hidden patches grey)", shown[i], hidden[i].numpy(),
                            params),
                PreviewItem("image", "target", full[i]))))
        return samples

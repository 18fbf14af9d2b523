"""Inpainting / masked image modelling: hide part of the image and reconstruct the pixels.

Two masking styles: `patches`, random square patches at a set ratio as in MAE
(He et al., "Masked Autoencoders Are Scalable Vision Learners", CVPR 2022), and
`rectangles`, one large box as in context encoders (Pathak et al., "Context
Encoders: Feature Learning by Inpainting", CVPR 2016). The loss counts hidden
pixels only. Hidden pixels are set to the data mean (0 after standardising).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from sslstudio.core.losses.reconstruction import masked_mse
from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.base import Batch, PreviewItem, PreviewSample, make_generator
from sslstudio.core.tasks.dense import DenseTask


@dataclass(frozen=True)
class InpaintingArgs(TaskArgs):
    style: str = setting("patches", "patches: MAE-style random square patches; rectangles: one box per image "
                                    "(context encoder).", choices=("patches", "rectangles"))
    mask_ratio: float = setting(0.5, "Share of the image hidden.", min=0.05, max=0.95)
    patch_size: int = setting(4, "Side of a square patch in pixels (patches style).", min=1, max=64)


def patch_mask(n: int, height: int, width: int, patch: int, ratio: float,
               generator: torch.Generator) -> torch.Tensor:
    """(n, H, W) bool: round(ratio * patches) random patches hidden per image."""
    rows, cols = math.ceil(height / patch), math.ceil(width / patch)
    hidden = round(ratio * rows * cols)
    order = torch.rand(n, rows * cols, generator=generator).argsort(dim=1)
    grid = torch.zeros(n, rows * cols, dtype=torch.bool)
    grid.scatter_(1, order[:, :hidden], True)
    grid = grid.view(n, rows, cols).repeat_interleave(patch, 1).repeat_interleave(patch, 2)
    return grid[:, :height, :width]


def box_mask(n: int, height: int, width: int, ratio: float, generator: torch.Generator) -> torch.Tensor:
    """(n, H, W) bool: one box of about `ratio` of the area, aspect 1:2 to 2:1, at a random place."""
    aspect = torch.exp(torch.empty(n).uniform_(-math.log(2), math.log(2), generator=generator))
    box_h = (torch.sqrt(ratio * height * width / aspect)).round().clamp(1, height).long()
    box_w = (ratio * height * width / box_h).round().clamp(1, width).long()
    top = (torch.rand(n, generator=generator) * (height - box_h + 1)).long()
    left = (torch.rand(n, generator=generator) * (width - box_w + 1)).long()
    ys, xs = torch.arange(height).view(1, -1, 1), torch.arange(width).view(1, 1, -1)
    return ((ys >= top.view(-1, 1, 1)) & (ys < (top + box_h).view(-1, 1, 1))
            & (xs >= left.view(-1, 1, 1)) & (xs < (left + box_w).view(-1, 1, 1)))


class Inpainting(DenseTask):
    name = "inpainting"
    modality = "image"
    summary = "Hide random patches (MAE) or a box (context encoder) and reconstruct the hidden pixels."
    reference = ("He et al., Masked Autoencoders Are Scalable Vision Learners, CVPR 2022; "
                 "Pathak et al., Context Encoders, CVPR 2016")
    Args = InpaintingArgs
    out_channels = 3

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        images = self.pipeline.preprocess(self.crop_stored(raw, generator)[0])
        n, _, height, width = images.shape
        if self.args.style == "patches":
            mask = patch_mask(n, height, width, self.args.patch_size, self.args.mask_ratio, generator)
        else:
            mask = box_mask(n, height, width, self.args.mask_ratio, generator)
        mask = mask.unsqueeze(1).to(images.device)
        return Batch(images.masked_fill(mask, 0.0), images, {"mask": mask})

    def loss(self, predicted: torch.Tensor, batch: Batch) -> torch.Tensor:
        return masked_mse(predicted, batch.targets, batch.params["mask"])

    def shown(self, predicted: torch.Tensor, batch: Batch) -> list[PreviewItem]:
        mask = batch.params["mask"]
        filled = torch.where(mask, predicted, batch.inputs)  # visible pixels stay as given
        images = self.pipeline.preprocess.to_display(filled)
        return [PreviewItem("image", "model's fill", images[i], params={
                    "masked_mse": round(float(masked_mse(predicted[i], batch.targets[i], mask[i])), 4)})
                for i in range(batch.size)]

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        shown = self.pipeline.preprocess.to_display(batch.inputs)
        targets = self.pipeline.preprocess.to_display(batch.targets)
        samples = []
        for i in range(batch.size):
            mask = batch.params["mask"][i, 0].cpu().numpy()
            params = {"hidden_share": round(float(mask.mean()), 3), "style": self.args.style}
            samples.append(PreviewSample(i, (PreviewItem("image", "masked input", shown[i], mask, params),
                                             PreviewItem("image", "target", targets[i]))))
        return samples

"""Rotation prediction (RotNet).

Gidaris, Singh and Komodakis, "Unsupervised Representation Learning by
Predicting Image Rotations", ICLR 2018. The network sees an image turned by
0, 90, 180 or 270 degrees and classifies the angle; recognising "upright"
needs the object's shape, so the features learn it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.augment import horizontal_flip, shift_crop
from sslstudio.core.tasks.base import Batch, PretextTask, PreviewItem, PreviewSample, TaskOutput, make_generator

ANGLES = (0, 90, 180, 270)


@dataclass(frozen=True)
class RotationArgs(TaskArgs):
    all_rotations: bool = setting(
        True, "Show every image at all four angles in the same batch (the paper's best "
              "setting); off draws one random angle per image, which is 4x cheaper per step.")
    shift: int = setting(
        4, "Random shift in pixels (zero-padded crop) applied before rotating, so the network "
           "cannot recognise the angle from where the object sits; 0 turns it off.", min=0, max=32)
    flip: bool = setting(True, "Mirror half of the images left-right before rotating.")


class Rotation(PretextTask):
    name = "rotation"
    modality = "image"
    summary = "Predict which of four rotations (0/90/180/270 degrees) was applied to the image."
    reference = "Gidaris et al., Unsupervised Representation Learning by Predicting Image Rotations, ICLR 2018"
    Args = RotationArgs
    family = "transformation prediction"
    cost = "medium"

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return nn.Linear(backbone.embed_dim, len(ANGLES))

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        n = len(raw)
        raw, _ = self.crop_stored(raw, generator)
        raw, shifts = shift_crop(raw, self.args.shift, generator)
        raw, flipped = horizontal_flip(raw, generator, 0.5 if self.args.flip else 0.0)
        if self.args.all_rotations:
            turns = torch.arange(len(ANGLES)).repeat_interleave(n)
            source = raw.repeat(len(ANGLES), 1, 1, 1)
        else:
            turns = torch.randint(len(ANGLES), (n,), generator=generator)
            source = raw
        rotated = torch.empty_like(source)
        turns_on_device = turns.to(raw.device)
        for k in range(len(ANGLES)):
            chosen = turns_on_device == k
            if chosen.any():
                rotated[chosen] = torch.rot90(source[chosen], k, dims=(2, 3))
        copies = len(turns) // n
        params = {"angle": turns * 90, "crop_offset": shifts.repeat(copies, 1), "flipped": flipped.repeat(copies)}
        return Batch(self.pipeline.preprocess(rotated), turns_on_device, params)

    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        embeddings = backbone(batch.inputs)
        logits = heads(embeddings)
        accuracy = (logits.argmax(1) == batch.targets).float().mean()
        return TaskOutput(F.cross_entropy(logits, batch.targets), embeddings, {"accuracy": accuracy})

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        images = self.pipeline.preprocess.to_display(batch.inputs)
        params = batch.params
        per_sample: dict[int, list[PreviewItem]] = {}
        for row, image in enumerate(images):
            angle = int(params["angle"][row])
            dy, dx = params["crop_offset"][row].tolist()
            item = PreviewItem("image", f"rotated {angle}°, target class {angle // 90}", image,
                               params={"angle": angle, "crop_offset_xy": (dx, dy),
                                       "flipped": bool(params["flipped"][row])})
            per_sample.setdefault(row % len(raw), []).append(item)
        return [PreviewSample(i, tuple(items)) for i, items in sorted(per_sample.items())]

"""What the two-view image methods share: the augmentation recipe, the batch of view pairs, the preview.

Defaults follow the small-image (CIFAR) recipe of solo-learn and lightly: crop
scale from 0.08, colour jitter 0.4/0.4/0.2/0.1 at p=0.8, grayscale p=0.2, no
blur. A method adds its heads and its loss.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.augment import color_jitter, gaussian_blur, random_grayscale, resized_crop_and_flip
from sslstudio.core.tasks.base import Batch, PretextTask, PreviewItem, PreviewSample, make_generator


@dataclass(frozen=True)
class ViewArgs(TaskArgs):
    crop_min_scale: float = setting(0.08, "Smallest crop, as a share of the image area.", min=0.01, max=1.0)
    brightness: float = setting(0.4, "Colour jitter: brightness spread.", min=0.0, max=1.0)
    contrast: float = setting(0.4, "Colour jitter: contrast spread.", min=0.0, max=1.0)
    saturation: float = setting(0.2, "Colour jitter: saturation spread.", min=0.0, max=1.0)
    hue: float = setting(0.1, "Colour jitter: hue shift, in turns of the colour wheel.", min=0.0, max=0.5)
    jitter_prob: float = setting(0.8, "Chance that a view gets colour jitter.", min=0.0, max=1.0)
    grayscale_prob: float = setting(0.2, "Chance that a view is turned grey.", min=0.0, max=1.0)
    blur_prob: float = setting(0.0, "Chance that a view is Gaussian-blurred (ImageNet-size images use 0.5).",
                               min=0.0, max=1.0)
    flip: bool = setting(True, "Mirror half of the views left-right.")
    projection_dim: int = setting(128, "Output size of the projection head the loss sees.", min=8, max=4096)


class TwoViewTask(PretextTask):
    """Base for methods that compare two augmented views of each image; inputs are [views 1; views 2]."""

    modality = "image"

    def view(self, images: torch.Tensor, generator: torch.Generator, scale: tuple[float, float] | None = None,
             size: int | None = None) -> tuple[torch.Tensor, dict]:
        """One augmented view, float [0, 1], of uint8 images, with every sampled parameter: a crop of `scale`
        (default: from crop_min_scale to the whole image) resized to `size` (default: the input size)."""
        a = self.args
        x, box, flipped = resized_crop_and_flip(images, scale or (a.crop_min_scale, 1.0), generator,
                                                size=size or self.pipeline.spec.image_size,
                                                flip_probability=0.5 if a.flip else 0.0)
        x = x.float() / 255.0
        x, jitter = color_jitter(x, a.brightness, a.contrast, a.saturation, a.hue, a.jitter_prob, generator)
        x, grey = random_grayscale(x, a.grayscale_prob, generator)
        x, blur = gaussian_blur(x, a.blur_prob, (0.1, 2.0), generator)
        return x, {"crop_box": box, "flipped": flipped, "jitter": jitter, "grayscale": grey, "blur_sigma": blur}

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        first, params1 = self.view(raw, generator)
        second, params2 = self.view(raw, generator)
        params = {f"view1_{k}": v for k, v in params1.items()} | {f"view2_{k}": v for k, v in params2.items()}
        inputs = self.pipeline.preprocess(torch.cat([first, second]))
        return Batch(inputs, torch.arange(len(raw), device=raw.device), params)

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        images = self.pipeline.preprocess.to_display(batch.inputs)
        n = len(raw)
        return [PreviewSample(i, tuple(PreviewItem("image", f"view {v}", images[i + (v - 1) * n],
                                                   params=_describe(batch.params, v, i)) for v in (1, 2)))
                for i in range(n)]


def _describe(params: dict, view: int, i: int) -> dict:
    p = {k.removeprefix(f"view{view}_"): v[i] for k, v in params.items() if k.startswith(f"view{view}_")}
    x, y, w, h = (round(float(v), 1) for v in p["crop_box"])
    b, c, s, hue = (round(float(v), 2) for v in p["jitter"])
    return {"crop_xywh": (x, y, w, h), "flipped": bool(p["flipped"]), "jitter_bcsh": (b, c, s, hue),
            "grey": bool(p["grayscale"]), "blur_sigma": round(float(p["blur_sigma"]), 2)}

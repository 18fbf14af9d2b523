"""Colorization: see the lightness channel, predict the colour (the ab channels of CIELAB).

Zhang, Isola and Efros, "Colorful Image Colorization", ECCV 2016. This version
regresses ab with a Huber loss instead of classifying 313 quantised ab bins;
regression is simpler and trains stably on small data, though it tends to
desaturate colours. It needs colour images: on greyscale data ab is zero and
there is nothing to learn, which the preview's `colourfulness` shows at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.base import Batch, PreviewItem, PreviewSample, make_generator
from sslstudio.core.tasks.dense import DenseTask

AB_SCALE = 110.0  # ab lies in about [-110, 110]
_RGB_TO_XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                            [0.212671, 0.715160, 0.072169],
                            [0.019334, 0.119193, 0.950227]])
_WHITE = torch.tensor([0.950456, 1.0, 1.088754])


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1], (B,3,H,W) -> CIELAB (D65): L in [0, 100], a and b in about [-110, 110]."""
    linear = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = torch.einsum("ij,bjhw->bihw", _RGB_TO_XYZ.to(rgb), linear) / _WHITE.to(rgb).view(1, 3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz.clamp(min=1e-12) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], dim=1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    fy = (lab[:, 0] + 16) / 116
    f = torch.stack([fy + lab[:, 1] / 500, fy, fy - lab[:, 2] / 200], dim=1)
    xyz = torch.where(f > 0.206893, f ** 3, (f - 16 / 116) / 7.787) * _WHITE.to(lab).view(1, 3, 1, 1)
    linear = torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_RGB_TO_XYZ).to(lab), xyz).clamp(0, 1)
    return torch.where(linear > 0.0031308, 1.055 * linear ** (1 / 2.4) - 0.055, 12.92 * linear).clamp(0, 1)


@dataclass(frozen=True)
class ColorizationArgs(TaskArgs):
    huber_delta: float = setting(0.1, "Huber loss threshold on ab / 110; small errors count squared, large ones "
                                      "linearly, so rare saturated colours don't dominate.", min=0.001, max=10.0)


class Colorization(DenseTask):
    name = "colorization"
    needs_colour = True
    modality = "image"
    summary = "See only the lightness (L of CIELAB) and predict the colour channels (ab)."
    reference = "Zhang, Isola and Efros, Colorful Image Colorization, ECCV 2016"
    Args = ColorizationArgs
    out_channels = 2

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        lab = rgb_to_lab(self.crop_stored(raw, generator)[0].float() / 255.0)
        lightness = ((lab[:, :1] - 50.0) / 25.0).expand(-1, 3, -1, -1)  # grey input on the backbone's 3 channels
        return Batch(lightness.contiguous(), lab[:, 1:] / AB_SCALE, {"lightness": lab[:, :1]})

    def loss(self, predicted: torch.Tensor, batch: Batch) -> torch.Tensor:
        return F.huber_loss(predicted.float(), batch.targets.float(), delta=self.args.huber_delta)

    def _to_display(self, lightness: torch.Tensor, ab: torch.Tensor):
        rgb = lab_to_rgb(torch.cat([lightness, ab * AB_SCALE], dim=1))
        return (rgb * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        grey = self._to_display(batch.params["lightness"], torch.zeros_like(batch.targets))
        truth = self._to_display(batch.params["lightness"], batch.targets)
        colourfulness = (batch.targets * AB_SCALE).norm(dim=1).mean(dim=(1, 2))
        return [PreviewSample(i, (PreviewItem("image", "model input (L)", grey[i]),
                                  PreviewItem("image", "target colours (ab)", truth[i],
                                              params={"colourfulness": round(float(colourfulness[i]), 1)})))
                for i in range(batch.size)]

    def shown(self, predicted: torch.Tensor, batch: Batch) -> list[PreviewItem]:
        shown = self._to_display(batch.params["lightness"], predicted.float())
        return [PreviewItem("image", "model's colours", shown[i]) for i in range(batch.size)]

"""Batched image augmentations with their sampled parameters, shared by the image tasks.

They run on whole uint8 (B, C, H, W) batches on the batch's device; random
draws come from a CPU generator, so a seed fixes them on any device.
"""
from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn.functional as F


def _crop_at(images: torch.Tensor, offsets: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Each image's (height, width) window whose top-left corner is at offsets (B, 2) = (dy, dx)."""
    on_device = offsets.to(images.device)
    rows = on_device[:, :1] + torch.arange(height, device=images.device)  # (B, H)
    cols = on_device[:, 1:] + torch.arange(width, device=images.device)  # (B, W)
    batch = torch.arange(len(images), device=images.device)[:, None, None]
    cropped = images.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return cropped.permute(0, 3, 1, 2).contiguous()


def random_crop(images: torch.Tensor, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A `size` square of each image at a random place; returns (images, offsets (B, 2) as dy, dx).

    The store keeps images a little larger than the model's input, so this shifts the content by
    real pixels, never padding."""
    n, _, height, width = images.shape
    offsets = torch.stack([torch.randint(0, height - size + 1, (n,), generator=generator),
                           torch.randint(0, width - size + 1, (n,), generator=generator)], dim=1)
    if height == size and width == size:
        return images, offsets
    return _crop_at(images, offsets, size, size), offsets


def shift_crop(images: torch.Tensor, pad: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad by `pad` and crop back to size at a random offset; returns (images, offsets (B, 2) as dy, dx)."""
    n, _, height, width = images.shape
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)
    if pad == 0:
        return images, offsets - pad
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
    return _crop_at(padded, offsets, height, width), offsets - pad


def horizontal_flip(images: torch.Tensor, generator: torch.Generator,
                    probability: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Mirror each image left-right with `probability`; returns (images, flipped (B,) bool)."""
    flipped = torch.rand(len(images), generator=generator) < probability
    if images.device.type == "cpu":  # one image at a time: 5x a batched flip and where on uint8 here
        out = images.clone()
        for i in flipped.nonzero().flatten().tolist():
            out[i] = images[i].flip(-1)
        return out, flipped
    mask = flipped.to(images.device).view(-1, 1, 1, 1)
    return torch.where(mask, images.flip(3), images), flipped


def resized_crop(images: torch.Tensor, scale: tuple[float, float], generator: torch.Generator,
                 ratio: tuple[float, float] = (3 / 4, 4 / 3),
                 size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Crop a random box of `scale` (share of the area) and aspect `ratio`, resized to `size` (default: the
    input's own size). The output has the input's dtype (uint8 stays uint8).

    The boxes are drawn on the CPU from `generator`, so they are the same on any device. How they are
    resampled suits the device: on a GPU, one affine grid per sample, the whole batch in a single
    grid_sample call; on a CPU, each box is cut at whole pixels and resized with antialiasing, on uint8
    where the input is (3-6x the batched grid_sample there, and no float copy of the batch), which can
    differ from the GPU's pixels by a level or two.
    Returns (images, boxes (B, 4) as x, y, width, height in pixels of the input, as drawn).
    """
    cropped, boxes, _ = resized_crop_and_flip(images, scale, generator, ratio, size, flip_probability=None)
    return cropped, boxes


def resized_crop_and_flip(images: torch.Tensor, scale: tuple[float, float], generator: torch.Generator,
                          ratio: tuple[float, float] = (3 / 4, 4 / 3), size: int | None = None,
                          flip_probability: float | None = 0.5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`resized_crop` followed by `horizontal_flip`, with the same draws in the same order, done in one pass
    over the batch on a CPU (a separate flip there costs as much again as the crop: it rereads and copies
    the whole batch). `flip_probability=None` draws no flips. Returns (images, boxes, flipped (B,) bool)."""
    n, channels, height, width = images.shape
    area = torch.empty(n).uniform_(scale[0], scale[1], generator=generator)
    log_ratio = torch.empty(n).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=generator)
    box_w = torch.sqrt(area * torch.exp(log_ratio)).clamp(max=1.0)
    box_h = torch.sqrt(area / torch.exp(log_ratio)).clamp(max=1.0)
    centre_x = (torch.rand(n, generator=generator) * 2 - 1) * (1 - box_w)
    centre_y = (torch.rand(n, generator=generator) * 2 - 1) * (1 - box_h)
    boxes = torch.stack([(centre_x - box_w + 1) / 2 * width, (centre_y - box_h + 1) / 2 * height,
                         box_w * width, box_h * height], dim=1)
    flipped = torch.zeros(n, dtype=torch.bool) if flip_probability is None else \
        torch.rand(n, generator=generator) < flip_probability
    out_h, out_w = (size, size) if size else (height, width)
    if images.device.type == "cpu":
        return _crop_each(images, boxes, flipped, out_h, out_w), boxes, flipped
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = box_w, centre_x, box_h, centre_y
    grid = F.affine_grid(theta.to(images.device), [n, channels, out_h, out_w], align_corners=False)
    cropped = F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if images.dtype == torch.uint8:
        cropped = cropped.round_().clamp_(0, 255).to(torch.uint8)
    if flipped.any():
        cropped = torch.where(flipped.to(images.device).view(-1, 1, 1, 1), cropped.flip(3), cropped)
    return cropped, boxes, flipped


def _crop_each(images: torch.Tensor, boxes: torch.Tensor, flipped: torch.Tensor, out_h: int,
               out_w: int) -> torch.Tensor:
    """Each image's box, at whole pixels, mirrored where `flipped`, resized to (out_h, out_w) with
    antialiasing. The images are shared out over a thread per core: one small resize gains nothing from
    torch's own threads (4.2k img/s with them, 9.5k split over two threads, 256-px crops to 224 on 2 cores)."""
    height, width = images.shape[-2:]
    left = boxes[:, 0].round().long().clamp(0, width - 1)
    top = boxes[:, 1].round().long().clamp(0, height - 1)
    right = torch.maximum(left + 1, (boxes[:, 0] + boxes[:, 2]).round().long().clamp(max=width)).tolist()
    bottom = torch.maximum(top + 1, (boxes[:, 1] + boxes[:, 3]).round().long().clamp(max=height)).tolist()
    left, top, mirror = left.tolist(), top.tolist(), flipped.tolist()
    out = torch.empty((len(images), images.shape[1], out_h, out_w), dtype=images.dtype,
                      memory_format=torch.channels_last)  # what the resize gives, and 2.6x faster on uint8

    def crop(rows: range) -> None:
        for i in rows:
            region = images[i:i + 1, :, top[i]:bottom[i], left[i]:right[i]]
            if mirror[i]:
                region = region.flip(-1)  # the small region, before the resize: the same as after
            if region.shape[-2:] == (out_h, out_w):
                out[i] = region[0]
            else:
                out[i] = F.interpolate(region, size=(out_h, out_w), mode="bilinear", antialias=True,
                                       align_corners=False)[0]

    _on_each_core(crop, len(images))
    return out


_cores: ThreadPoolExecutor | None = None
_cores_made = threading.Lock()


def _on_each_core(work, count: int) -> None:
    """work(rows) over `count` rows, split into one range per core torch may use (each range runs on a pool
    thread), so a run that leaves a core to the GUI (set_cpu_threads) leaves it here too."""
    global _cores
    parts = min(torch.get_num_threads(), os.cpu_count() or 1, max(1, count // 16))
    if parts == 1:
        work(range(count))
        return
    with _cores_made:
        if _cores is None:
            _cores = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="sslstudio-augment")
    bounds = [count * k // parts for k in range(parts + 1)]
    for future in [_cores.submit(work, range(bounds[k], bounds[k + 1])) for k in range(parts)]:
        future.result()


def _grey(images: torch.Tensor) -> torch.Tensor:
    weights = torch.tensor([0.299, 0.587, 0.114], device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    return (images * weights).sum(1, keepdim=True)


_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def color_jitter(images: torch.Tensor, brightness: float, contrast: float, saturation: float, hue: float,
                 probability: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """SimCLR's colour distortion on float [0, 1] images, applied to each image with `probability`.

    Order: brightness, contrast, saturation, hue (a rotation of the chroma plane in YIQ space).
    Returns (images, factors (B, 4): brightness, contrast, saturation, hue shift; 1, 1, 1, 0 when skipped).
    """
    n = len(images)
    applied = torch.rand(n, generator=generator) < probability

    def draw(spread: float, centre: float) -> torch.Tensor:
        values = centre + (torch.rand(n, generator=generator) * 2 - 1) * spread
        return torch.where(applied, values, torch.full((n,), centre))

    factors = torch.stack([draw(brightness, 1.0).clamp(min=0), draw(contrast, 1.0).clamp(min=0),
                           draw(saturation, 1.0).clamp(min=0), draw(hue, 0.0)], dim=1)
    f = factors.to(images.device).view(n, 4, 1, 1)
    x = (images * f[:, 0:1]).clamp(0, 1)
    mean = _grey(x).mean(dim=(2, 3), keepdim=True)
    x = ((x - mean) * f[:, 1:2] + mean).clamp(0, 1)
    grey = _grey(x)
    x = ((x - grey) * f[:, 2:3] + grey).clamp(0, 1)
    x = _rotate_hue(x, factors[:, 3].to(images.device))
    return x.clamp(0, 1), factors


def _rotate_hue(images: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    to_yiq = _RGB_TO_YIQ.to(images.device, images.dtype)
    yiq = torch.einsum("ij,bjhw->bihw", to_yiq, images)
    angle = turns * 2 * math.pi
    cos, sin = torch.cos(angle).view(-1, 1, 1), torch.sin(angle).view(-1, 1, 1)
    i, q = yiq[:, 1], yiq[:, 2]
    rotated = torch.stack([yiq[:, 0], i * cos - q * sin, i * sin + q * cos], dim=1)
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(to_yiq), rotated)


def random_grayscale(images: torch.Tensor, probability: float,
                     generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    chosen = torch.rand(len(images), generator=generator) < probability
    mask = chosen.to(images.device).view(-1, 1, 1, 1)
    return torch.where(mask, _grey(images).expand_as(images), images), chosen


def gaussian_blur(images: torch.Tensor, probability: float, sigma: tuple[float, float],
                  generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Blur each image with `probability`, sigma in pixels drawn from `sigma`; returns (images, sigmas; 0 = none)."""
    n, channels, height, width = images.shape
    chosen = torch.rand(n, generator=generator) < probability
    sigmas = torch.where(chosen, torch.empty(n).uniform_(sigma[0], sigma[1], generator=generator), torch.zeros(n))
    if not chosen.any():
        return images, sigmas
    radius = max(1, int(math.ceil(3 * sigma[1])))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernels = torch.exp(-offsets[None] ** 2 / (2 * sigmas.clamp(min=1e-3)[:, None] ** 2))
    kernels = (kernels / kernels.sum(1, keepdim=True)).to(images.device, images.dtype)
    per_channel = kernels.repeat_interleave(channels, 0)  # (B*C, k)
    flat = images.reshape(1, n * channels, height, width)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="reflect"), per_channel[:, None, None, :],
                    groups=n * channels)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="reflect"), per_channel[:, None, :, None],
                    groups=n * channels)
    return flat.view(n, channels, height, width), sigmas

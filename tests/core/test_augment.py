"""Batched augmentations do what their parameters say."""
import math

import torch

from sslstudio.core.losses.nt_xent import nt_xent
from sslstudio.core.tasks.augment import color_jitter, gaussian_blur, random_grayscale, resized_crop
from sslstudio.core.tasks.base import make_generator


def images(n=4, size=16, seed=0):
    return torch.rand(n, 3, size, size, generator=make_generator(seed))


def test_full_size_crop_is_the_identity_and_boxes_lie_inside():
    x = images()
    same, boxes = resized_crop(x, (1.0, 1.0), make_generator(0), ratio=(1.0, 1.0))
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)
    torch.testing.assert_close(boxes, torch.tensor([[0.0, 0.0, 16.0, 16.0]] * 4))
    _, boxes = resized_crop(x, (0.1, 0.5), make_generator(1))
    assert (boxes[:, :2] >= -1e-4).all() and (boxes[:, 0] + boxes[:, 2] <= 16 + 1e-4).all()
    assert (boxes[:, 2] * boxes[:, 3] <= 0.5 * 256 + 1e-3).all()


def test_color_jitter_skipped_is_identity_and_hue_keeps_grey_grey():
    x = images()
    kept, factors = color_jitter(x, 0.4, 0.4, 0.4, 0.1, probability=0.0, generator=make_generator(0))
    torch.testing.assert_close(kept, x, atol=1e-5, rtol=0)
    assert (factors == torch.tensor([1.0, 1.0, 1.0, 0.0])).all()
    grey = x[:, :1].expand(-1, 3, -1, -1)
    shifted, factors = color_jitter(grey, 0.0, 0.0, 0.0, 0.5, probability=1.0, generator=make_generator(1))
    assert factors[:, 3].abs().max() > 0
    torch.testing.assert_close(shifted, grey, atol=1e-4, rtol=0)


def test_brightness_scales_pixels():
    x = images() * 0.5
    out, factors = color_jitter(x, 0.5, 0.0, 0.0, 0.0, probability=1.0, generator=make_generator(2))
    torch.testing.assert_close(out, (x * factors[:, 0].view(-1, 1, 1, 1)).clamp(0, 1), atol=1e-5, rtol=0)


def test_grayscale_and_blur():
    x = images()
    grey, chosen = random_grayscale(x, 1.0, make_generator(0))
    assert chosen.all() and torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
    blurred, sigmas = gaussian_blur(x, 1.0, (1.0, 2.0), make_generator(0))
    assert ((sigmas >= 1.0) & (sigmas <= 2.0)).all()
    assert blurred.std() < 0.7 * x.std()  # noise loses most of its variance
    same, sigmas = gaussian_blur(x, 0.0, (1.0, 2.0), make_generator(0))
    assert torch.equal(same, x) and (sigmas == 0).all()


def test_nt_xent_rewards_matching_pairs():
    z = torch.randn(16, 32, generator=make_generator(0))
    loss, accuracy = nt_xent(z, z + 0.01 * torch.randn(16, 32, generator=make_generator(1)), temperature=0.1)
    assert accuracy == 1.0 and loss < 0.5
    loss, _ = nt_xent(z, torch.randn(16, 32, generator=make_generator(2)), temperature=1.0)
    assert abs(loss.item() - math.log(31)) < 0.5


def test_uint8_crops_stay_uint8_cut_the_drawn_box_and_shrink_with_antialiasing():
    pictures = (images(n=3, size=40) * 255).round().to(torch.uint8)
    crops, boxes = resized_crop(pictures, (0.2, 0.6), make_generator(3), size=24)
    assert crops.dtype == torch.uint8 and crops.shape == (3, 3, 24, 24)
    for picture, crop, (x, y, w, h) in zip(pictures, crops, boxes.tolist(), strict=True):
        region = picture[None, :, round(y):round(y + h), round(x):round(x + w)].float()  # cut at whole pixels
        expected = torch.nn.functional.interpolate(region, size=(24, 24), mode="bilinear", antialias=True)
        assert (crop.float() - expected[0]).abs().max() <= 1.0  # the same box, resampled; uint8 rounding


def test_crop_and_flip_in_one_pass_equals_the_two_steps():
    from sslstudio.core.tasks.augment import horizontal_flip, resized_crop_and_flip

    pictures = (images(n=6, size=40) * 255).round().to(torch.uint8)
    together, boxes, flipped = resized_crop_and_flip(pictures, (0.2, 0.9), make_generator(5), size=24)
    generator = make_generator(5)
    cropped, same_boxes = resized_crop(pictures, (0.2, 0.9), generator, size=24)
    apart, same_flips = horizontal_flip(cropped, generator)
    assert torch.equal(boxes, same_boxes) and torch.equal(flipped, same_flips) and 0 < int(flipped.sum()) < 6
    assert (together.int() - apart.int()).abs().max() <= 1  # mirroring before or after the resize

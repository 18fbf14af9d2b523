"""Generated photo-like JPEG folders for the size benchmarks: FOLDER/<class>/<n>.jpg.

Each picture is a colour gradient with a class's shape (disc, box, triangle, ring, bars, ...) at
a random place, size and colour, plus grain, so JPEG decoding costs what it costs on photos of
that size and a probe has something to learn. Written once; a second call finds the folder done.
"""
from __future__ import annotations

import os
from multiprocessing import Pool
from pathlib import Path

import numpy as np

SHAPES = ("disc", "box", "triangle", "ring", "bars", "cross", "diamond", "dots", "stripes", "star")


def class_name(index: int, classes: int = len(SHAPES)) -> str:
    """The class of picture `index`: its shape, and past 10 classes also a dark or light background."""
    shape = SHAPES[index % len(SHAPES)]
    return shape if classes <= len(SHAPES) else f"{shape}-{'dark' if index % classes >= len(SHAPES) else 'light'}"


def picture(index: int, width: int, height: int, classes: int = len(SHAPES)):
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(index)
    shape = SHAPES[index % len(SHAPES)]
    if classes > len(SHAPES):  # 20 classes: each shape on a dark or on a light background
        low = 0 if index % classes >= len(SHAPES) else 128
        top, bottom = rng.integers(low, low + 128, 3), rng.integers(low, low + 128, 3)
    else:
        top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    ramp = np.linspace(0, 1, height)[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).repeat(width, axis=1)
    pixels += rng.normal(0, 6, pixels.shape)
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    size = int(min(width, height) * rng.uniform(0.25, 0.6))
    x, y = int(rng.integers(0, width - size)), int(rng.integers(0, height - size))
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    box = (x, y, x + size, y + size)
    if shape == "disc":
        draw.ellipse(box, fill=colour)
    elif shape == "box":
        draw.rectangle(box, fill=colour)
    elif shape == "triangle":
        draw.polygon([(x, y + size), (x + size // 2, y), (x + size, y + size)], fill=colour)
    elif shape == "ring":
        draw.ellipse(box, outline=colour, width=max(2, size // 8))
    elif shape == "bars":
        for k in range(4):
            draw.rectangle((x + k * size // 4, y, x + k * size // 4 + size // 10, y + size), fill=colour)
    elif shape == "cross":
        draw.rectangle((x + size // 3, y, x + 2 * size // 3, y + size), fill=colour)
        draw.rectangle((x, y + size // 3, x + size, y + 2 * size // 3), fill=colour)
    elif shape == "diamond":
        draw.polygon([(x + size // 2, y), (x + size, y + size // 2), (x + size // 2, y + size), (x, y + size // 2)],
                     fill=colour)
    elif shape == "dots":
        for k in range(9):
            cx, cy = x + (k % 3) * size // 3, y + (k // 3) * size // 3
            draw.ellipse((cx, cy, cx + size // 5, cy + size // 5), fill=colour)
    elif shape == "stripes":
        for k in range(0, size, max(4, size // 6)):
            draw.line((x, y + k, x + size, y + k), fill=colour, width=max(2, size // 16))
    else:
        points = [(x + size / 2 + size / 2 * np.cos(a) * (1 if j % 2 == 0 else 0.45),
                   y + size / 2 + size / 2 * np.sin(a) * (1 if j % 2 == 0 else 0.45))
                  for j, a in enumerate(np.linspace(-np.pi / 2, 1.5 * np.pi, 10, endpoint=False))]
        draw.polygon(points, fill=colour)
    return image


def _write(job: tuple[str, int, int, int, int]) -> None:
    folder, index, width, height, classes = job
    path = Path(folder) / class_name(index, classes) / f"{index:07d}.jpg"
    if not path.exists():
        picture(index, width, height, classes).save(path, quality=90)


def generated_jpegs(folder: Path, count: int, width: int = 256, height: int = 256, first: int = 0,
                    classes: int = len(SHAPES)) -> Path:
    """`count` JPEGs of width x height in `classes` (10 or 20) class folders (indices first..first+count-1)."""
    done = folder / f".complete-{count}-{width}x{height}-{first}"
    if done.exists():
        return folder
    for index in range(classes):
        (folder / class_name(index, classes)).mkdir(parents=True, exist_ok=True)
    jobs = [(str(folder), i, width, height, classes) for i in range(first, first + count)]
    with Pool(os.cpu_count() or 1) as pool:
        for _ in pool.imap_unordered(_write, jobs, chunksize=256):
            pass
    done.touch()
    return folder

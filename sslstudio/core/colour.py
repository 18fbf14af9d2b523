"""Colours: false colour for 2-D arrays (spectrograms), shared by the contact sheets and the workbench, and
the classes' colours on the map.

numpy only, so the GUI can use it without importing torch.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# Anchor colours of perceptually ordered dark-to-bright maps (close to matplotlib's).
MAGMA = np.array([[0, 0, 4], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]], dtype=np.float32)
VIRIDIS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float32)


def colormap(values: np.ndarray, anchors: np.ndarray = MAGMA) -> np.ndarray:
    """(H, W) floats -> (H, W, 3) uint8, scaled to the array's own 1st-99th percentile."""
    low, high = np.percentile(values, [1, 99]) if values.size else (0.0, 1.0)
    scaled = np.clip((values - low) / max(high - low, 1e-9), 0, 1) * (len(anchors) - 1)
    index = np.minimum(scaled.astype(int), len(anchors) - 2)
    frac = (scaled - index)[..., None]
    return (anchors[index] * (1 - frac) + anchors[index + 1] * frac).astype(np.uint8)


def spectrogram_rgb(spec: np.ndarray, mask: np.ndarray | None, hidden_colour: tuple[int, int, int],
                    anchors: np.ndarray = MAGMA) -> np.ndarray:
    """(freq, time) -> (H, W, 3) uint8 with low frequencies at the bottom; masked cells tinted."""
    rgb = colormap(np.asarray(spec, dtype=np.float32), anchors)
    if mask is not None:
        hidden = np.asarray(mask, dtype=bool)
        rgb[hidden] = (0.45 * rgb[hidden] + 0.55 * np.array(hidden_colour)).astype(np.uint8)
    return np.ascontiguousarray(rgb[::-1])


# The classes' colours on the map: 64 colours as far apart as they can be, each from all the ones before it
# (Glasbey et al. 2007, "Colour displays for categorical images": greedy max-min distance in CIELAB), so the
# first k classes are as distinct as k colours can be (30: CIE76 distance >= 29; 64: >= 20). Made by
# `distinct_colours(64)` below and kept as a list, so a class's colour never moves with numpy's rounding.
CLASS_COLOURS = np.array([[int(code[i:i + 2], 16) for i in (0, 2, 4)] for code in """
    8000f8 00d800 f80000 e8b800 f828a0 0080f8 307018 984820
    00d8b8 884880 d070f8 00b8f8 f88898 c0c070 c8b0f8 d00040
    88b800 f07800 007060 f800f8 50d870 306098 4050f0 f8a870
    706000 f888d8 50b8c0 a82098 7050b8 b83068 f87058 70b078
    985058 109800 a010c8 b82800 b87810 a09810 a88858 c888b0
    f840d8 506838 0080a0 6898e8 88c058 b880e0 009850 f82878
    8878b0 70d840 c04850 c87860 e8b858 789040 f83838 f868a0
    00a080 8070f8 c0c000 98c0f8 d06828 3860b8 f8a010 609008
""".split()], dtype=np.uint8)
UNLABELLED_GREY = (170, 170, 170)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) sRGB in 0-255 -> (N, 3) CIELAB (D65): where a distance is about how different colours look."""
    linear = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(linear > 0.04045, ((linear + 0.055) / 1.055) ** 2.4, linear / 12.92)
    to_xyz = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def distinct_colours(count: int) -> np.ndarray:
    """(count, 3) uint8: each colour the farthest (CIELAB) from those before it and from white, the dark
    theme's background and the unlabelled grey; lightness 40-78 and some chroma, so every colour shows on a
    light and on a dark map and none looks grey."""
    axis = np.arange(0, 256, 8, dtype=np.float64)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    lab = srgb_to_lab(grid)
    keep = (lab[:, 0] >= 40) & (lab[:, 0] <= 78) & (np.hypot(lab[:, 1], lab[:, 2]) >= 30)
    grid, lab = grid[keep], lab[keep]
    avoid = srgb_to_lab(np.array([(255, 255, 255), (16, 16, 16), UNLABELLED_GREY]))
    nearest = np.linalg.norm(lab[:, None] - avoid[None], axis=2).min(axis=1)
    chosen = []
    for _ in range(count):
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, np.linalg.norm(lab - lab[chosen[-1]], axis=1))
    return grid[chosen].astype(np.uint8)


class ClassColours:
    """Each class's slot in CLASS_COLOURS, in the order the classes first appeared (a batch that appears at
    once, such as a folder's classes, in name order): a class keeps its colour when new classes come."""

    def __init__(self):
        self.slots: dict[str, int] = {}

    def colours(self, names: Iterable[str]) -> np.ndarray:
        """(len(names), 3) uint8, one colour per name, new names taking the next free slots."""
        names = list(names)
        for name in sorted(set(names) - set(self.slots)):
            self.slots[name] = len(self.slots)
        slots = np.array([self.slots[name] for name in names], dtype=np.intp) % len(CLASS_COLOURS)
        return CLASS_COLOURS[slots].reshape(-1, 3)

"""False colour for 2-D arrays (spectrograms), shared by the contact sheets and the workbench.

numpy only, so the GUI can use it without importing torch.
"""
from __future__ import annotations

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

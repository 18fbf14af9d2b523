"""Render preview samples into one PNG contact sheet (Pillow only, no Qt).

One row per sample, one tile per preview item, each with its title and
sampled parameters printed underneath, so a sheet documents itself.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sslstudio.core.colour import spectrogram_rgb
from sslstudio.core.io import atomic_write
from sslstudio.core.tasks.base import PreviewItem, PreviewSample

TILE = 160
LINE = 13  # caption line height in pixels
PAD = 8
BACKGROUND = (250, 250, 250)
INK = (30, 30, 30)
HIDDEN = (230, 60, 40)


def _font(size: int = 11):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed bitmap size
        return ImageFont.load_default()


def render_item(item: PreviewItem) -> Image.Image:
    if item.kind == "image":
        img = Image.fromarray(item.data)
        return img.resize((TILE, TILE), Image.Resampling.NEAREST if img.width < TILE else Image.Resampling.BILINEAR)
    if item.kind == "spectrogram":
        rgb = spectrogram_rgb(item.data, item.mask, HIDDEN)
        return Image.fromarray(rgb).resize((TILE * 2, TILE), Image.Resampling.NEAREST)
    if item.kind == "audio":
        return _waveform(np.asarray(item.data, dtype=np.float32))
    if item.kind == "tokens":
        return _tokens(item.data, item.mask)
    raise ValueError(f"unknown preview kind {item.kind!r}")


def _waveform(wave: np.ndarray) -> Image.Image:
    img = Image.new("RGB", (TILE * 2, TILE), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    columns = np.array_split(wave, TILE * 2) if len(wave) else []
    peak = max(float(np.abs(wave).max()) if len(wave) else 0.0, 1e-6)
    for x, column in enumerate(columns):
        if len(column):
            top = TILE / 2 - float(column.max()) / peak * (TILE / 2 - 4)
            bottom = TILE / 2 - float(column.min()) / peak * (TILE / 2 - 4)
            draw.line([(x, top), (x, bottom)], fill=(40, 90, 160))
    return img


def _tokens(tokens: list[str], mask) -> Image.Image:
    """Word pieces joined as text; hidden (selected) tokens in red."""
    width = TILE * 3
    img = Image.new("RGB", (width, TILE), (255, 255, 255))
    draw, font = ImageDraw.Draw(img), _font(12)
    space = draw.textlength(" ", font=font)
    x, y = 4.0, 4.0
    for i, token in enumerate(tokens):
        text = token[2:] if token.startswith("##") else token
        advance = draw.textlength(text, font=font)
        if x + advance > width - 4:
            x, y = 4.0, y + 16
        if y > TILE - 16:
            draw.text((x, y), "...", fill=INK, font=font)
            break
        hidden = mask is not None and i < len(mask) and bool(mask[i])
        draw.text((x, y), text, fill=HIDDEN if hidden else INK, font=font)
        joins_next = i + 1 < len(tokens) and tokens[i + 1].startswith("##")
        x += advance + (0 if joins_next else space)
    return img


def _caption(item: PreviewItem) -> str:
    params = ", ".join(f"{k}={v}" for k, v in item.params.items())
    return item.title + (f" | {params}" if params else "")


def render_sheet(samples: list[PreviewSample], title: str) -> Image.Image:
    """One row per sample; captions wrap under their tile and the title wraps across the sheet."""
    rows = [[(tile, textwrap.wrap(_caption(item), max(12, tile.width // 6)))
             for item in sample.items for tile in [render_item(item)]] for sample in samples]
    width = max(520, PAD + max(sum(tile.width + PAD for tile, _ in row) for row in rows))
    caption_height = LINE * max(len(lines) for row in rows for _, lines in row) + 4
    row_height = max(tile.height for row in rows for tile, _ in row) + caption_height + PAD
    title_lines = textwrap.wrap(title, max(40, width // 8))
    top = 10 + 18 * len(title_lines)
    sheet = Image.new("RGB", (width, top + row_height * len(rows)), BACKGROUND)
    draw, font = ImageDraw.Draw(sheet), _font(11)
    draw.multiline_text((PAD, 6), "\n".join(title_lines), fill=INK, font=_font(14), spacing=3)
    for r, row in enumerate(rows):
        x, y = PAD, top + r * row_height
        for tile, lines in row:
            sheet.paste(tile, (x, y))
            draw.multiline_text((x, y + tile.height + 2), "\n".join(lines), fill=INK, font=font, spacing=1)
            x += tile.width + PAD
    return sheet


def save_sheet(samples: list[PreviewSample], title: str, path: str | Path) -> None:
    sheet = render_sheet(samples, title)
    atomic_write(path, lambda f: sheet.save(f, format="PNG"))

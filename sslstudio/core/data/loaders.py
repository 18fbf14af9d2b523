"""Decode one file of each modality, or say in plain words why it cannot be used.

Every loader raises `Unusable(reason)` for a file that must be skipped; nothing
else escapes for bad content. Images come back as uint8 HWC RGB at a fixed size,
audio as float32 mono at a fixed rate and length, text as a list of
(sample id, string) pairs because one .jsonl or .csv file holds many samples.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass

import numpy as np

MAX_TEXT_BYTES = 1 << 20  # a single .txt/.md sample longer than this is cut, not skipped
MAX_TABLE_BYTES = 512 << 20
MAX_IMAGE_PIXELS = 16384 * 16384


class Unusable(Exception):
    """The file cannot be used; the message is the reason shown to the user."""


@dataclass(frozen=True)
class InputSpec:
    """How raw files become fixed-size arrays; stored with each run."""

    image_size: int = 32
    sample_rate: int = 16000
    audio_seconds: float = 1.0
    text_column: str = "text"
    text_tokens: int = 64
    vocab_size: int = 4000

    @property
    def audio_samples(self) -> int:
        return int(round(self.sample_rate * self.audio_seconds))


def _read_bytes(path: str, limit: int, allow_cut: bool = False) -> bytes:
    """The file's bytes; over `limit` it is refused, or (allow_cut) returned with limit + 1 bytes."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except PermissionError:
        raise Unusable("permission denied") from None
    except OSError as exc:
        raise Unusable(f"cannot read: {exc.strerror or exc}") from None
    if not data:
        raise Unusable("empty file")
    if len(data) > limit and not allow_cut:
        raise Unusable(f"file too large (over {limit >> 20} MB)")
    return data


# ---------------------------------------------------------------- images
def load_image(path: str, spec: InputSpec) -> np.ndarray:
    """RGB uint8 (size, size, 3): shorter side resized to `size`, centre-cropped."""
    from PIL import Image, UnidentifiedImageError

    data = _read_bytes(path, MAX_TABLE_BYTES)
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise Unusable(f"image too large ({width}x{height} pixels)")
            if width == 0 or height == 0:
                raise Unusable("image has no pixels")
            img.draft("RGB", (spec.image_size, spec.image_size))  # JPEG: decode at reduced scale
            rgb = _to_rgb(img)
    except UnidentifiedImageError:
        raise Unusable("not a readable image (corrupt data or wrong extension)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise Unusable(f"corrupt or truncated image data ({exc})") from None
    return _resize_center_crop(rgb, spec.image_size)


def _to_rgb(img):
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        from PIL import Image

        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode == "I;16" or img.mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        span = max(arr.max() - arr.min(), 1e-9)
        from PIL import Image

        return Image.fromarray(((arr - arr.min()) / span * 255).astype(np.uint8)).convert("RGB")
    return img.convert("RGB")


def _resize_center_crop(img, size: int) -> np.ndarray:
    from PIL import Image

    width, height = img.size
    scale = size / min(width, height)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    if (new_w, new_h) != (width, height):
        img = img.resize((new_w, new_h), Image.Resampling.BILINEAR, reducing_gap=3.0)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8)


# ----------------------------------------------------------------- audio
def load_audio(path: str, spec: InputSpec) -> np.ndarray:
    """Mono float32 at spec.sample_rate, centre-cropped or zero-padded to spec.audio_samples."""
    import soundfile

    data = _read_bytes(path, MAX_TABLE_BYTES)
    if path.lower().endswith(".wav"):
        _check_wav_length(data)
    try:
        wave, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise Unusable(f"not readable audio ({_short(exc)})") from None
    if wave.shape[0] == 0:
        raise Unusable("audio has no samples")
    if not np.isfinite(wave).all():
        raise Unusable("audio holds NaN or infinite samples")
    mono = wave.mean(axis=1)
    if rate != spec.sample_rate:
        mono = _resample(mono, rate, spec.sample_rate)
    return _fit_length(mono, spec.audio_samples)


def _check_wav_length(data: bytes) -> None:
    """libsndfile quietly reads what is there; a WAV cut short must be reported instead."""
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        return  # not RIFF/WAVE: let soundfile say what it is
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if chunk == b"data":
            have = len(data) - pos - 8
            if size != 0xFFFFFFFF and have < size:
                raise Unusable(f"truncated WAV: header promises {size} bytes of audio, file holds {have}")
            return
        pos += 8 + size + (size & 1)
    raise Unusable("truncated WAV: no audio data chunk")


def _resample(mono: np.ndarray, rate: int, target: int) -> np.ndarray:
    import torch
    import torchaudio.functional as AF

    return AF.resample(torch.from_numpy(np.ascontiguousarray(mono)), rate, target).numpy()


def _fit_length(mono: np.ndarray, n: int) -> np.ndarray:
    if len(mono) >= n:
        start = (len(mono) - n) // 2
        return np.ascontiguousarray(mono[start:start + n], dtype=np.float32)
    out = np.zeros(n, dtype=np.float32)
    start = (n - len(mono)) // 2
    out[start:start + len(mono)] = mono
    return out


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


# ------------------------------------------------------------------ text
def load_text(path: str, relpath: str, spec: InputSpec) -> list[tuple[str, str]]:
    """(sample id, text) pairs: one for .txt/.md, one per line or row for .jsonl/.csv."""
    suffix = os.path.splitext(path)[1].lower()
    limit = MAX_TABLE_BYTES if suffix in (".jsonl", ".csv") else MAX_TEXT_BYTES
    data = _read_bytes(path, limit, allow_cut=suffix not in (".jsonl", ".csv"))
    text = _decode_text(data[:limit], cut=len(data) > limit)
    if suffix == ".jsonl":
        return _jsonl_samples(text, relpath, spec.text_column)
    if suffix == ".csv":
        return _csv_samples(text, relpath, spec.text_column)
    if not text.strip():
        raise Unusable("file holds only whitespace")
    return [(relpath, text.strip())]


def _decode_text(data: bytes, cut: bool) -> str:
    if b"\x00" in data[:8192]:
        raise Unusable("binary content, not text (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if cut and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8-sig")  # the size limit cut a character in two
        raise Unusable(f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def _jsonl_samples(text: str, relpath: str, column: str) -> list[tuple[str, str]]:
    samples = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        found = value.get(column) if isinstance(value, dict) else value if isinstance(value, str) else None
        if isinstance(found, str) and found.strip():
            samples.append((f"{relpath}#{number}", found.strip()))
    if not samples:
        raise Unusable(f"no line holds a JSON object with a non-empty {column!r} string")
    return samples


def _csv_samples(text: str, relpath: str, column: str) -> list[tuple[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = {name.strip().lower(): name for name in (reader.fieldnames or [])}
    if column.lower() not in fields:
        raise Unusable(f"no {column!r} column (columns: {', '.join(fields) or 'none'})")
    key = fields[column.lower()]
    samples = []
    try:
        for number, row in enumerate(reader, start=2):
            value = (row.get(key) or "").strip()
            if value:
                samples.append((f"{relpath}#{number}", value))
    except csv.Error as exc:
        raise Unusable(f"malformed CSV ({exc})") from None
    if not samples:
        raise Unusable(f"the {column!r} column is empty")
    return samples

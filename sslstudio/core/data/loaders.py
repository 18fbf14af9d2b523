"""Decode one file of each modality, or say in plain words why it cannot be used.

Every loader raises `Unusable(reason)` for a file that must be skipped; nothing
else escapes for bad content. Images come back as uint8 HWC RGB at a fixed size,
audio as float32 mono segments at a fixed rate (`AudioSegments`: a long
recording streams in segments, never whole), text as a list of (sample id, string) pairs because one
.jsonl or .csv file holds many samples.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass

import numpy as np

from sslstudio.core.settings import Settings, setting

MAX_TEXT_BYTES = 1 << 20  # a single .txt/.md sample longer than this is cut, not skipped
MAX_FILE_BYTES = 512 << 20  # images, and .jsonl/.csv tables, larger than this are refused
MAX_IMAGE_PIXELS = 16384 * 16384


class Unusable(Exception):
    """The file cannot be used; the message is the reason shown to the user."""


@dataclass(frozen=True)
class InputSpec(Settings):
    """How raw files become model inputs; stored with each run. Each modality reads its own fields."""

    image_size: int = setting(32, "Side of the square images the model sees, in pixels. Files are stored "
                                  "a little larger (256 for 224) so training crops cut real pixels.",
                              min=8, max=1024)
    sample_rate: int = setting(16000, "Audio is resampled to this rate, in Hz, and mixed to mono.",
                               min=1000, max=96000)
    audio_seconds: float = setting(1.0, "Length of the audio window the model sees. Training draws it at "
                                        "a random place in each clip, so longer clips are not wasted.",
                                   min=0.05, max=60.0)
    audio_segment_seconds: float = setting(10.0, "Recordings longer than this become several samples of this "
                                                 "length, each starting where its id says (talk.wav#t=30).",
                                           min=1.0, max=600.0)
    text_tokens: int = setting(64, "Tokens the model sees per text. Training takes a random window of a "
                                   "longer text; evaluation its beginning.", min=8, max=4096)
    vocab_size: int = setting(4000, "Size of the WordPiece vocabulary trained on your texts.",
                              min=100, max=65000)
    text_column: str = setting("text", "The column (.csv) or field (.jsonl) that holds the text.")

    MODALITY_FIELDS = {"image": ("image_size",), "audio": ("audio_seconds", "sample_rate", "audio_segment_seconds"),
                       "text": ("text_tokens", "vocab_size", "text_column")}

    @classmethod
    def schema_for(cls, modality: str) -> list[dict]:
        names = cls.MODALITY_FIELDS[modality]
        return sorted((f for f in cls.schema() if f["name"] in names), key=lambda f: names.index(f["name"]))

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
def load_image(path: str, size: int) -> np.ndarray:
    """RGB uint8 (size, size, 3): shorter side resized to `size`, centre-cropped."""
    from PIL import Image, UnidentifiedImageError

    data = _read_bytes(path, MAX_FILE_BYTES)
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise Unusable(f"image too large ({width}x{height} pixels)")
            if width == 0 or height == 0:
                raise Unusable("image has no pixels")
            img.draft("RGB", (size, size))  # JPEG: decode at reduced scale
            rgb = _to_rgb(img)
    except UnidentifiedImageError:
        raise Unusable("not a readable image (corrupt data or wrong extension)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise Unusable(f"corrupt or truncated image data ({exc})") from None
    return _resize_center_crop(rgb, size)


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
class AudioSegments:
    """A recording as segments of at most `segment_seconds`: (start in seconds, mono float32 at `rate`).

    Opening checks the file (raising `Unusable`); the segments are read one at a time as they are
    iterated, so an hours-long recording never sits in memory whole. A read error part-way raises
    `Unusable` from the iteration.
    """

    def __init__(self, path: str, rate: int, segment_seconds: float):
        import soundfile

        _check_audio_file(path)
        self.path, self.rate = path, rate
        try:
            info = soundfile.info(path)
        except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
            raise Unusable(f"not readable audio ({_short(exc)})") from None
        if info.frames <= 0:
            raise Unusable("audio has no samples")
        self.file_rate, self.frames = info.samplerate, info.frames
        self.step = max(1, int(round(segment_seconds * self.file_rate)))
        starts = list(range(0, self.frames, self.step))
        if len(starts) > 1 and self.frames - starts[-1] < 0.25 * self.step:
            starts.pop()  # a tail shorter than a quarter segment would be mostly padding
        self.starts = starts

    def __len__(self) -> int:
        return len(self.starts)

    def __iter__(self):
        import soundfile

        try:
            with soundfile.SoundFile(self.path) as f:
                for start in self.starts:
                    f.seek(start)
                    block = f.read(min(self.step, self.frames - start), dtype="float32", always_2d=True)
                    if block.shape[0] == 0:
                        raise Unusable(f"audio ends early, at {start / self.file_rate:.1f} s")
                    if not np.isfinite(block).all():
                        raise Unusable("audio holds NaN or infinite samples")
                    mono = block.mean(axis=1)
                    if self.file_rate != self.rate:
                        mono = _resample(mono, self.file_rate, self.rate)
                    yield round(start / self.file_rate, 3), np.ascontiguousarray(mono, dtype=np.float32)
        except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
            raise Unusable(f"not readable audio ({_short(exc)})") from None


def _check_audio_file(path: str) -> None:
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            header = f.read(1 << 16)
    except PermissionError:
        raise Unusable("permission denied") from None
    except OSError as exc:
        raise Unusable(f"cannot read: {exc.strerror or exc}") from None
    if size == 0:
        raise Unusable("empty file")
    if path.lower().endswith(".wav"):
        _check_wav_length(header, size)


def _check_wav_length(header: bytes, size: int) -> None:
    """libsndfile quietly reads what is there; a WAV cut short must be reported instead."""
    if len(header) < 12 or header[:4] not in (b"RIFF", b"RIFX") or header[8:12] != b"WAVE":
        return  # not RIFF/WAVE: let soundfile say what it is
    pos = 12
    while pos + 8 <= len(header):
        chunk, chunk_size = header[pos:pos + 4], int.from_bytes(header[pos + 4:pos + 8], "little")
        if chunk == b"data":
            have = size - pos - 8
            if chunk_size != 0xFFFFFFFF and have < chunk_size:
                raise Unusable(f"truncated WAV: header promises {chunk_size} bytes of audio, file holds {have}")
            return
        pos += 8 + chunk_size + (chunk_size & 1)
    if size <= len(header):
        raise Unusable("truncated WAV: no audio data chunk")


def _resample(mono: np.ndarray, rate: int, target: int) -> np.ndarray:
    import torch
    import torchaudio.functional as AF

    return AF.resample(torch.from_numpy(np.ascontiguousarray(mono)), rate, target).numpy()


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


# ------------------------------------------------------------------ text
def load_text(path: str, relpath: str, spec: InputSpec) -> list[tuple[str, str]]:
    """(sample id, text) pairs: one for .txt/.md, one per line or row for .jsonl/.csv."""
    suffix = os.path.splitext(path)[1].lower()
    limit = MAX_FILE_BYTES if suffix in (".jsonl", ".csv") else MAX_TEXT_BYTES
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

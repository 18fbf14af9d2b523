"""Decode one file of each modality, or say in plain words why it cannot be used.

Every loader raises `Unusable(reason)` for a file that must be skipped; nothing
else escapes for bad content. Images come back as uint8 HWC RGB at a fixed size,
audio as float32 mono segments at a fixed rate (`AudioSegments`: a long
recording streams in segments, never whole), text as a list of (sample id, string) pairs because one
.jsonl or .csv file holds many samples.
"""
from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import os
import stat
import threading
import warnings
from dataclasses import dataclass

import numpy as np

from sslstudio.core.data.sample_ids import line_id
from sslstudio.core.io import kind_of_file
from sslstudio.core.settings import Settings, setting

MAX_TEXT_BYTES = 1 << 20  # a single .txt/.md sample longer than this is cut, not skipped
MAX_FILE_BYTES = 512 << 20  # images, and .jsonl/.csv tables, larger than this are refused
# Pillow warns of a decompression bomb above 89.5 million pixels and refuses above twice that; the app
# refuses where Pillow starts to warn, so neither reaches the user. A side is capped too: a 4 KB PNG of
# 1 x 1,000,000 pixels is within the product but not a picture.
MAX_IMAGE_PIXELS = 89_478_485
MAX_IMAGE_SIDE = 65_535
DECODE_MEMORY_BUDGET = 1 << 30  # bytes of decoded pixels held at once by all decoding threads together
SKIPPED_SHOWN = 3  # broken lines named in a table's note; the rest are counted
MIN_AUDIO_RATE, MAX_AUDIO_RATE = 1_000, 384_000  # Hz: what recorders write; beyond is a damaged header
MAX_AUDIO_HOURS = 100  # a header claiming more is damaged (and its segment list alone would be a bomb)

csv.field_size_limit(MAX_FILE_BYTES)  # a text in a CSV cell may be long: the file's own cap applies


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


def open_regular(path: str):
    """The file opened for reading in binary, if it is a regular file. A FIFO, a device or a socket
    (perhaps swapped in since the scan) is refused without blocking on it: the open does not wait for
    a writer, and nothing is read from anything that is not a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except PermissionError:
        raise Unusable("permission denied") from None
    except OSError as exc:
        raise Unusable(f"cannot read: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise Unusable(f"not a regular file ({kind_of_file(mode)})")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _read_bytes(path: str, limit: int, allow_cut: bool = False) -> bytes:
    """The file's bytes; over `limit` it is refused, or (allow_cut) returned with limit + 1 bytes."""
    with open_regular(path) as f:
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise Unusable(f"cannot read: {exc.strerror or exc}") from None
    if not data:
        raise Unusable("empty file")
    if len(data) > limit and not allow_cut:
        raise Unusable(f"file too large (over {limit >> 20} MB)")
    return data


# ---------------------------------------------------------------- images
def load_image(path: str, size: int) -> np.ndarray:
    """RGB uint8 (size, size, 3): the centre square of the picture, resized to `size`."""
    from PIL import Image, UnidentifiedImageError

    _quiet_pillow()
    data = _read_bytes(path, MAX_FILE_BYTES)
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
                raise Unusable(f"image too large ({width}x{height} pixels; at most {MAX_IMAGE_PIXELS / 1e6:.0f} "
                               f"million pixels and {MAX_IMAGE_SIDE} per side)")
            if width == 0 or height == 0:
                raise Unusable("image has no pixels")
            img.draft("RGB", (size, size))  # JPEG: decode at reduced scale
            with _DECODE_BUDGET.holding(_decoded_bytes(img)):
                return _center_square(img, size)
    except UnidentifiedImageError:
        raise Unusable("not a readable image (corrupt data or wrong extension)") from None
    except Image.DecompressionBombError:
        raise Unusable(f"image too large (its header claims over {2 * MAX_IMAGE_PIXELS / 1e6:.0f} million "
                       f"pixels, a decompression bomb)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise Unusable(f"corrupt or truncated image data ({exc})") from None


@functools.cache
def _quiet_pillow() -> None:
    """Pictures over the cap are refused in words; Pillow's own warning would only reach the terminal."""
    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _decoded_bytes(img) -> int:
    width, height = img.size
    return width * height * max(4, len(img.getbands()) * (2 if img.mode.startswith("I") else 1))


class _MemoryBudget:
    """Bytes the decoding threads may hold at once; a file larger than the whole budget waits until it
    is alone. Eight threads each decoding a 9000 x 9000 PNG would otherwise hold 2 GB together."""

    def __init__(self, budget: int):
        self.budget, self.used = budget, 0
        self.changed = threading.Condition()

    @contextlib.contextmanager
    def holding(self, nbytes: int):
        with self.changed:
            self.changed.wait_for(lambda: self.used == 0 or self.used + nbytes <= self.budget)
            self.used += nbytes
        try:
            yield
        finally:
            with self.changed:
                self.used -= nbytes
                self.changed.notify_all()


_DECODE_BUDGET = _MemoryBudget(DECODE_MEMORY_BUDGET)


def _center_square(img, size: int) -> np.ndarray:
    """Cut the centre square first, then convert and resize it: a 1 x 1,000,000 strip is never
    scaled up to 32 x 32,000,000 on the way."""
    from PIL import Image

    width, height = img.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = _to_rgb(img.crop((left, top, left + side, top + side)))
    if side != size:
        square = square.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return np.asarray(square, dtype=np.uint8)


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


# ----------------------------------------------------------------- audio
class AudioSegments:
    """A recording as segments of at most `segment_seconds`: (start in seconds, mono float32 at `rate`).

    Opening checks the file (raising `Unusable`); the segments are read one at a time as they are
    iterated, so an hours-long recording never sits in memory whole. A read error part-way raises
    `Unusable` from the iteration.
    """

    def __init__(self, path: str, rate: int, segment_seconds: float):
        import soundfile

        self.path, self.rate = path, rate
        with open_regular(path) as f:
            _check_audio_file(f, path)
            try:
                info = soundfile.info(f)
            except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
                raise Unusable(f"not readable audio ({_short(exc)})") from None
        if info.frames <= 0:
            raise Unusable("audio has no samples")
        if not MIN_AUDIO_RATE <= info.samplerate <= MAX_AUDIO_RATE:  # a damaged header's rate, resampled, is a bomb
            raise Unusable(f"sample rate of {info.samplerate} Hz is outside {MIN_AUDIO_RATE}-{MAX_AUDIO_RATE} Hz")
        if info.frames / info.samplerate > MAX_AUDIO_HOURS * 3600:
            raise Unusable(f"the header claims {info.frames / info.samplerate / 3600:.0f} hours of audio "
                           f"(at most {MAX_AUDIO_HOURS})")
        self.file_rate, self.frames, self.channels = info.samplerate, info.frames, max(1, info.channels)
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
            with open_regular(self.path) as raw, soundfile.SoundFile(raw) as f:
                for start in self.starts:
                    f.seek(start)
                    mono = self._read_mono(f, min(self.step, self.frames - start))
                    if mono.shape[0] == 0:
                        raise Unusable(f"audio ends early, at {start / self.file_rate:.1f} s")
                    if self.file_rate != self.rate:
                        mono = _resample(mono, self.file_rate, self.rate)
                    yield round(start / self.file_rate, 3), np.ascontiguousarray(mono, dtype=np.float32)
        except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
            raise Unusable(f"not readable audio ({_short(exc)})") from None

    def _read_mono(self, f, frames: int) -> np.ndarray:
        """`frames` frames mixed to mono, read in blocks of at most 16 MB whatever the channel count."""
        block_frames = max(1, (16 << 20) // (4 * self.channels))
        parts = []
        while frames > 0:
            block = f.read(min(block_frames, frames), dtype="float32", always_2d=True)
            if block.shape[0] == 0:
                break
            if not np.isfinite(block).all():
                raise Unusable("audio holds NaN or infinite samples")
            parts.append(block.mean(axis=1))
            frames -= block.shape[0]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def _check_audio_file(f, path: str) -> None:
    try:
        size = os.fstat(f.fileno()).st_size
        header = f.read(1 << 16)
        f.seek(0)
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
    """Polyphase resampling by the reduced ratio target/rate. A rate with no common factor with the
    target (8077 Hz to 16 kHz) makes a kernel of target x rate taps, over 1 GB; such a ratio is taken
    to within one part in a million by a fraction of small terms instead."""
    from fractions import Fraction

    import torch
    import torchaudio.functional as AF

    ratio = Fraction(target, rate)
    if ratio.numerator * ratio.denominator > 1_000_000:
        ratio = ratio.limit_denominator(1000)
    return AF.resample(torch.from_numpy(np.ascontiguousarray(mono)), ratio.denominator, ratio.numerator).numpy()


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


# ------------------------------------------------------------------ text
def load_text(path: str, relpath: str, spec: InputSpec) -> TextSamples:
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
    return TextSamples([(relpath, text.strip())])


def _decode_text(data: bytes, cut: bool) -> str:
    if b"\x00" in data[:8192]:
        raise Unusable("binary content, not text (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if cut and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8-sig")  # the size limit cut a character in two
        raise Unusable(f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


class TextSamples(list):
    """(sample id, text) pairs of one file; `skipped` says which lines of a table were left out, and why."""

    skipped: str | None = None


def _skipped_note(broken: list[tuple[int, str]], total: int) -> str | None:
    if not broken:
        return None
    named = "; ".join(f"line {number}: {why}" for number, why in broken[:SKIPPED_SHOWN])
    more = f"; and {len(broken) - SKIPPED_SHOWN} more" if len(broken) > SKIPPED_SHOWN else ""
    return f"{len(broken)} of {total} lines skipped ({named}{more})"


def _jsonl_samples(text: str, relpath: str, column: str) -> TextSamples:
    samples, broken, total = TextSamples(), [], 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        total += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            broken.append((number, f"not valid JSON ({exc.msg})"))
            continue
        except RecursionError:
            broken.append((number, "JSON nested too deeply"))
            continue
        found = value.get(column) if isinstance(value, dict) else value if isinstance(value, str) else None
        if isinstance(found, str) and found.strip():
            samples.append((line_id(relpath, number), found.strip()))
    if not samples:
        first = f" ({_skipped_note(broken, total)})" if broken else ""
        raise Unusable(f"no line holds a JSON object with a non-empty {column!r} string{first}")
    samples.skipped = _skipped_note(broken, total)
    return samples


def _csv_samples(text: str, relpath: str, column: str) -> TextSamples:
    samples = TextSamples()
    try:
        reader = csv.DictReader(io.StringIO(text))
        fields = {name.strip().lower(): name for name in (reader.fieldnames or [])}
        if column.lower() not in fields:
            named = ", ".join(name[:40] for name in list(fields)[:20])
            raise Unusable(f"no {column!r} column (columns: {named or 'none'})")
        key = fields[column.lower()]
        for number, row in enumerate(reader, start=2):
            value = (row.get(key) or "").strip()
            if value:
                samples.append((line_id(relpath, number), value))
    except csv.Error as exc:
        raise Unusable(f"malformed CSV ({exc})") from None
    if not samples:
        raise Unusable(f"the {column!r} column is empty")
    return samples

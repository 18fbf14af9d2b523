"""A look at a folder's files before anything is decoded: how big they are, and what input size suits.

Only headers are read (image sizes, audio durations, text lengths) of at most a few hundred
files spread over the folder, so a 100k-file folder is surveyed in well under a second. From
that, `recommend` proposes the input settings for the device, estimates the store's
size and what training holds in memory, and warns when the files carry far more detail than the
chosen size keeps.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.data.records import segment_seconds, stored_side

IMAGE_SIZES = (32, 64, 96, 128, 224)
CPU_IMAGE_CAP = 64  # a small CNN at 32-64 px trains in CPU minutes; photos want a GPU at 224
SURVEYED = 300


@dataclass
class Survey:
    modality: str
    files: int
    looked_at: int = 0
    median_side: int | None = None  # images: the median shorter side, in pixels
    colour: bool | None = None  # images: most are colour (not greyscale), from their headers
    median_seconds: float | None = None  # audio
    total_seconds: float | None = None  # audio, extrapolated to every file
    median_bytes: int | None = None  # text
    total_bytes: int = 0  # the folder's files, extrapolated
    free_bytes: int | None = None  # free where stores are kept, measured with the survey (off the GUI thread)


@dataclass
class Recommendation:
    spec: InputSpec
    store_bytes: int
    batch_bytes: int  # one raw training batch, as read from the store
    notes: list[str] = field(default_factory=list)  # why these values
    warnings: list[str] = field(default_factory=list)  # what the user should know


def survey(root: str | os.PathLike, relpaths: Sequence[str], modality: str, limit: int = SURVEYED) -> Survey:
    """Headers of up to `limit` files spread evenly over `relpaths`."""
    picked = [relpaths[int(i)] for i in np.unique(np.linspace(0, len(relpaths) - 1, min(limit, len(relpaths))))] \
        if relpaths else []
    result = Survey(modality, len(relpaths), len(picked))
    sizes, sides, seconds, colours = [], [], [], []
    for relpath in picked:
        path = os.path.join(root, relpath)
        try:
            sizes.append(os.path.getsize(path))
            if modality == "image":
                side, colour = _image_side(path)
                sides.append(side)
                colours.append(colour)
            elif modality == "audio":
                seconds.append(_audio_seconds(path))
        except Exception:  # noqa: BLE001 - an unreadable file is reported by the decode, not here
            continue
    scale = len(relpaths) / max(len(sizes), 1)
    result.total_bytes = int(sum(sizes) * scale)
    if sides:
        result.median_side = int(np.median(sides))
        result.colour = sum(colours) * 2 > len(colours)
    if seconds:
        result.median_seconds = float(np.median(seconds))
        result.total_seconds = float(sum(seconds) * len(relpaths) / len(seconds))
    if sizes and modality == "text":
        result.median_bytes = int(np.median(sizes))
    result.free_bytes = _free_bytes()
    return result


def _image_side(path: str) -> tuple[int, bool]:
    """The shorter side and whether the image is colour, from its header."""
    from PIL import Image

    with Image.open(path) as img:
        return min(img.size), img.mode not in ("1", "L", "LA", "I", "I;16", "F")


def _audio_seconds(path: str) -> float:
    import soundfile

    info = soundfile.info(path)
    return info.frames / max(info.samplerate, 1)


BYTES_PER_WORD = 6  # English prose with its spaces and punctuation
# A vocabulary grows with the corpus: a piece seen a handful of times learns nothing, and BERT's 30k pieces
# were made for billions of words. (words at most, pieces)
VOCABULARY_STEPS = ((50_000, 2000), (500_000, 4000), (5_000_000, 8000), (50_000_000, 16000))


def vocab_size_for(words: int) -> int:
    return next((pieces for most, pieces in VOCABULARY_STEPS if words <= most), 30000)


def image_size_for(side: int | None, device_type: str) -> int:
    """The largest standard size not above the files' median side; at most 64 px on a CPU."""
    if side is None:
        return 32
    size = max([s for s in IMAGE_SIZES if s <= side * 1.15] or [IMAGE_SIZES[0]])
    return min(size, CPU_IMAGE_CAP) if device_type == "cpu" else size


def recommend(found: Survey, device_type: str, given: dict | None = None, batch_size: int = 128) -> Recommendation:
    """Input settings for this folder and device (values in `given` are kept), with estimates and warnings.
    (The backbone that suits them is `models.backbones.default_backbone`.)"""
    given = dict(given or {})
    notes, warnings = [], []
    spec = InputSpec.from_mapping(given)
    if found.modality == "image":
        if "image_size" not in given:
            spec = replace(spec, image_size=image_size_for(found.median_side, device_type))
            if found.median_side:
                notes.append(f"images are about {found.median_side} px (median shorter side): {spec.image_size} px"
                             + (" on a CPU" if device_type == "cpu" and spec.image_size == CPU_IMAGE_CAP else ""))
        side = stored_side(spec.image_size)
        store = found.files * 3 * side * side
        batch = batch_size * 3 * side * side
        if found.median_side and found.median_side > 2.5 * spec.image_size:
            warnings.append(f"the images are about {found.median_side} px and training sees {spec.image_size} px: "
                            f"most of their detail is thrown away" + (
                                "; a GPU would train at 224 px" if device_type == "cpu" else ""))
    elif found.modality == "audio":
        if "audio_seconds" not in given and found.median_seconds:
            spec = replace(spec, audio_seconds=float(min(max(0.5, round(found.median_seconds * 2) / 2),
                                                         1.0 if device_type == "cpu" else 4.0)))
            notes.append(f"clips last about {found.median_seconds:.1f} s: the model hears {spec.audio_seconds:g} s "
                         f"at a time, from a random place in each clip")
        total = found.total_seconds or found.files * spec.audio_seconds
        store = int(total * spec.sample_rate * 2)
        batch = batch_size * spec.audio_samples * 4
        if found.median_seconds and found.median_seconds > segment_seconds(spec):
            notes.append(f"recordings longer than {segment_seconds(spec):g} s become several samples")
    else:
        if "vocab_size" not in given and found.total_bytes:
            words = found.total_bytes // BYTES_PER_WORD
            spec = replace(spec, vocab_size=vocab_size_for(words))
            notes.append(f"the texts hold about {words:,} words: a vocabulary of {spec.vocab_size:,} pieces")
        store = 2 * found.total_bytes
        batch = batch_size * spec.text_tokens * 8
        if found.median_bytes and found.median_bytes > 20 * spec.text_tokens:
            notes.append(f"texts are about {found.median_bytes // 5} words: training reads {spec.text_tokens} tokens "
                         f"from a random place in each")
    free = found.free_bytes
    if free is not None and store > free:
        warnings.append(f"the store needs about {describe_bytes(store)} but only {describe_bytes(free)} is free "
                        f"where stores are kept; keep them elsewhere with --store DIR (or SSLSTUDIO_STORE)")
    return Recommendation(spec, int(store), int(batch), notes, warnings)


def _free_bytes() -> int | None:
    import shutil

    from sslstudio.core.data.store import store_root

    place = store_root()
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        return shutil.disk_usage(place).free
    except OSError:
        return None


def describe_bytes(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1024 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


def folder_survey(root: str | os.PathLike, modality: str, scan=None) -> Survey:
    """The folder's files of `modality` surveyed; `scan`: its ScanResult, when the caller has one."""
    from sslstudio.core.data.scan import scan_folder

    return survey(Path(root), (scan or scan_folder(root)).files[modality], modality)

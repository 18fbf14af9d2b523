"""Decoded samples as bytes: how each modality is laid out, and how batches are read back.

- Images: uint8 (S, S, 3), channels last, S = `stored_side(image_size)`, about 8/7 of the training size
  (256 for 224, the usual resize-256 / crop-224 margin). Channels last because torch's antialiased
  uint8 resize runs 2.6x faster on it than on planes (the CPU's training crops). Training crops cut
  real pixels out of the margin; evaluation takes the centre `image_size` square.
- Audio: int16 mono at the run's sample rate, one record per segment of at most
  `segment_seconds(spec)`; a longer recording becomes several samples whose ids say where they
  start (`talk.wav#t=30`). Training reads a window of `audio_seconds` at a random offset each
  time; evaluation reads the centre window.
- Text: the sample's UTF-8 text; the store also keeps token ids per tokenizer (see `Pipeline`).

Records live in a `Blob`: the sample store's data file on disk (read with `pread`, so the page
cache, not the process, holds what was read) or a bytearray for a handful of decoded files.
"""
from __future__ import annotations

import os
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from sslstudio.core.data.loaders import AudioSegments, InputSpec, Unusable, load_image, load_text
from sslstudio.core.data.sample_ids import segment_id
from sslstudio.core.data.store_health import clear_command
from sslstudio.core.errors import UserError

STORE_RATIO = 8 / 7
AUDIO_SCALE = 32767.0


def stored_side(image_size: int) -> int:
    return int(round(image_size * STORE_RATIO))


def segment_seconds(spec: InputSpec) -> float:
    return max(spec.audio_segment_seconds, spec.audio_seconds)


def record_settings(modality: str, spec: InputSpec) -> dict:
    """The input settings that change what is stored (others, like the clip length, only change the reading)."""
    if modality == "image":
        return {"stored_side": stored_side(spec.image_size)}
    if modality == "audio":
        return {"sample_rate": spec.sample_rate, "segment_seconds": segment_seconds(spec)}
    return {"text_column": spec.text_column}


Payload = tuple[str, bytes | memoryview]  # (id suffix, the record's bytes)
LONG_RECORDING_SEGMENTS = 4  # a recording of more segments is read as it is written, not decoded ahead


def decode(path: str, relpath: str, modality: str, spec: InputSpec) -> Iterable[Payload]:
    """One file's records; raises `Unusable` with the reason for a file that must be skipped. A long
    recording's come as a lazy iterable, read segment by segment as the consumer takes them (which may
    raise `Unusable` part-way)."""
    if modality == "image":
        pixels = load_image(path, stored_side(spec.image_size))
        return [("", memoryview(np.ascontiguousarray(pixels)).cast("B"))]
    if modality == "audio":
        segments = AudioSegments(path, spec.sample_rate, segment_seconds(spec))
        many = len(segments) > 1
        payloads = ((segment_id("", start) if many else "", memoryview(_to_int16(wave)).cast("B"))
                    for start, wave in segments)
        return payloads if len(segments) > LONG_RECORDING_SEGMENTS else list(payloads)
    texts = load_text(path, relpath, spec)
    return Decoded([(sample_id[len(relpath):], text.encode("utf-8", "surrogatepass")) for sample_id, text in texts],
                   note=texts.skipped)


class Decoded(list):
    """A usable file's records, with a note of what in it was left out (a table's broken lines)."""

    def __init__(self, payloads: Iterable[Payload], note: str | None = None):
        super().__init__(payloads)
        self.note = note


def _to_int16(wave: np.ndarray) -> np.ndarray:
    return np.round(np.clip(wave, -1.0, 1.0) * AUDIO_SCALE).astype("<i2")


# ------------------------------------------------------------------ where the bytes are
class Blob:
    def read_into(self, offset: int, out: memoryview) -> None:
        raise NotImplementedError


class FileBlob(Blob):
    """A data file read with positioned reads: thread-safe, and nothing is mapped into the process. `folder`: the
    folder whose sample store it belongs to (named in the advice when the file was cut short)."""

    def __init__(self, path: str | os.PathLike, folder: str | os.PathLike | None = None):
        self.path, self.folder = os.fspath(path), folder
        self.fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))

    def read_into(self, offset: int, out: memoryview) -> None:
        done = 0
        while done < len(out):
            got = _pread_into(self.fd, out[done:], offset + done)
            if got <= 0:
                whose = f"the sample store of {self.folder}" if self.folder is not None else "the sample store"
                clear = f"; or clear it with `{clear_command(self.folder)}`" if self.folder is not None else ""
                raise StoreCutShort(f"{self.path} ends at {offset + done} bytes: {whose} was cut short. Run the "
                                    f"command again to decode what it lost{clear}")
            done += got

    def __del__(self):
        try:
            os.close(self.fd)
        except (OSError, AttributeError):
            pass


class StoreCutShort(UserError, OSError):
    """The store's data file ends before a record: a user's matter (one line, also in the GUI), and still the
    OSError that the store's own readers catch."""


if hasattr(os, "preadv"):
    def _pread_into(fd: int, out: memoryview, offset: int) -> int:
        return os.preadv(fd, [out], offset)
else:  # Windows has no positioned read in os: one seek-and-read at a time
    _seek_lock = threading.Lock()

    def _pread_into(fd: int, out: memoryview, offset: int) -> int:
        with _seek_lock:
            os.lseek(fd, offset, os.SEEK_SET)
            data = os.read(fd, len(out))
        out[:len(data)] = data
        return len(data)


class MemoryBlob(Blob):
    def __init__(self, data: bytearray):
        self.data = data

    def read_into(self, offset: int, out: memoryview) -> None:
        out[:] = memoryview(self.data)[offset:offset + len(out)]


def in_memory(payloads: Sequence[bytes | memoryview]) -> tuple[MemoryBlob, np.ndarray, np.ndarray]:
    """A blob holding these records back to back, with their offsets and sizes."""
    sizes = np.array([len(p) if isinstance(p, bytes) else p.nbytes for p in payloads], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    data = bytearray(int(sizes.sum()))
    view = memoryview(data)
    for payload, start, size in zip(payloads, offsets, sizes, strict=True):
        view[start:start + size] = memoryview(payload).cast("B")
    return MemoryBlob(data), offsets, sizes


# ------------------------------------------------------------------ reading batches
_readers: ThreadPoolExecutor | None = None
_readers_made = threading.Lock()


def _in_parallel(work: Callable[[int], None], count: int, per_thread: int = 32) -> None:
    """Run work(i) for i < count; large batches are spread over a few threads (preadv releases the GIL)."""
    global _readers
    if count < 2 * per_thread:
        for i in range(count):
            work(i)
        return
    with _readers_made:
        if _readers is None:
            _readers = ThreadPoolExecutor(4, thread_name_prefix="sslstudio-read")
    chunks = [range(start, min(start + per_thread, count)) for start in range(0, count, per_thread)]
    for future in [_readers.submit(lambda rows: [work(i) for i in rows], rows) for rows in chunks]:
        future.result()


@dataclass
class Records:
    """Where each sample's bytes lie. `tokens` caches token ids per tokenizer (text on disk).

    With `checksums` (a store's records), each record is checked the first time it is read whole, so a damaged
    store file is an error rather than training data: the check costs one CRC-32 per record and process."""

    modality: str
    blob: Blob
    offsets: np.ndarray  # int64, per sample
    sizes: np.ndarray  # int64 bytes, per sample
    side: int = 0  # images: the stored side
    store: object | None = None  # the SampleStore the blob belongs to, if any
    token_tables: dict = field(default_factory=dict)
    checksums: np.ndarray | None = None  # uint32 CRC-32 per sample
    checked: np.ndarray = field(init=False, repr=False)  # bool per sample: its checksum matched

    def __post_init__(self):
        self.checked = np.zeros(len(self.offsets) if self.checksums is not None else 0, dtype=bool)

    def __len__(self) -> int:
        return len(self.offsets)

    def take(self, indices: Sequence[int] | np.ndarray) -> Records:
        index = np.asarray(indices, dtype=np.int64)
        checksums = self.checksums[index] if self.checksums is not None else None
        return replace(self, offsets=self.offsets[index], sizes=self.sizes[index], token_tables={},
                       checksums=checksums)

    def _check(self, row: int, data: bytes | bytearray | memoryview) -> None:
        """`data`, the whole record `row`, against its checksum (once per record)."""
        if self.checksums is None or self.checked[row]:
            return
        if zlib.crc32(data) != int(self.checksums[row]):
            raise self.store.record_damaged(int(self.offsets[row]))
        self.checked[row] = True

    def _check_unread(self, row: int) -> None:
        """Check a record that is about to be read in part (an audio window)."""
        if self.checksums is not None and not self.checked[row]:
            whole = bytearray(int(self.sizes[row]))
            self.blob.read_into(int(self.offsets[row]), memoryview(whole))
            self._check(row, whole)

    # -- images
    def images(self, indices: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """uint8 (B, S, S, 3) at the stored side."""
        n, side = len(indices), self.side
        out = np.empty((n, side, side, 3), dtype=np.uint8) if out is None else out
        flat = out.reshape(n, -1)

        def read(i: int) -> None:
            self.blob.read_into(int(self.offsets[indices[i]]), memoryview(flat[i]))
            self._check(int(indices[i]), flat[i])

        _in_parallel(read, n)
        return out

    # -- audio
    def clip_lengths(self) -> np.ndarray:
        return self.sizes // 2

    def audio(self, indices: np.ndarray, window: int, starts: np.ndarray | None = None,
              out: np.ndarray | None = None) -> np.ndarray:
        """float32 (B, window): from `starts` (in samples), or the centre window; a shorter clip is
        zero-padded around its centre, as the model saw clips at their own length before."""
        n = len(indices)
        out = np.zeros((n, window), dtype=np.float32) if out is None else out
        lengths = self.clip_lengths()[indices]

        def read(i: int) -> None:
            length = int(lengths[i])
            if length >= window:
                start = int(starts[i]) if starts is not None else (length - window) // 2
                count, place = window, 0
            else:
                start, count, place = 0, length, (window - length) // 2
                out[i, :place] = 0
                out[i, place + count:] = 0
            pcm = np.empty(count, dtype="<i2")
            self._check_unread(int(indices[i]))
            self.blob.read_into(int(self.offsets[indices[i]]) + 2 * start, memoryview(pcm).cast("B"))
            np.multiply(pcm, 1.0 / AUDIO_SCALE, out=out[i, place:place + count], casting="unsafe")

        _in_parallel(read, n)
        return out

    # -- text
    def text(self, i: int) -> str:
        raw = bytearray(int(self.sizes[i]))
        self.blob.read_into(int(self.offsets[i]), memoryview(raw))
        self._check(i, raw)
        return raw.decode("utf-8", "surrogatepass")

    def texts(self, indices: Sequence[int] | None = None) -> list[str]:
        return [self.text(int(i)) for i in (range(len(self)) if indices is None else indices)]


def decode_all(root: str | os.PathLike, relpaths: Sequence[str], modality: str, spec: InputSpec,
               threads: int, each: Callable[[int, Iterable[Payload] | Unusable], None]) -> None:
    """Decode files on `threads` threads, calling each(i, payloads or Unusable) in file order.

    At most a few files per thread are in flight, so memory stays bounded on any folder; `each` may
    raise (Cancelled) to end early. Whatever a decoder raises makes that file unusable, with the
    error as its reason: one odd file never stops a folder.
    """
    def one(relpath: str):
        try:
            return decode(os.path.join(root, relpath), relpath, modality, spec)
        except Unusable as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - a library's own error on a hostile file (a decompression bomb)
            return Unusable(f"cannot be decoded ({type(exc).__name__}: {str(exc).strip()[:200]})")

    window = max(4, 4 * threads)
    with ThreadPoolExecutor(threads, thread_name_prefix="sslstudio-decode") as pool:
        pending: deque = deque()
        try:
            for i, relpath in enumerate(relpaths):
                pending.append((i, pool.submit(one, relpath)))
                while len(pending) >= window or (pending and i == len(relpaths) - 1):
                    index, future = pending.popleft()
                    each(index, future.result())
        finally:
            for _, future in pending:
                future.cancel()

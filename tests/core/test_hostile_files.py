"""Files built to hurt (decompression bombs, extreme strips, giant CSV fields, deep JSON, pipes and
devices) are skipped with a reason, fast and within memory; the rest of the folder still trains."""
import os
import resource
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from sslstudio.core.data.dataset import check_files, load_folder
from sslstudio.core.data.loaders import MAX_IMAGE_PIXELS, InputSpec, Unusable, load_image, load_text, open_regular
from sslstudio.core.data.scan import scan_folder


def png_header_only(width: int, height: int) -> bytes:
    """A 69-byte PNG whose header claims width x height pixels: what a decompression bomb looks like."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def strip_png(width: int, height: int) -> bytes:
    """A real, decodable PNG of width x height grey pixels; a 1 x 1,000,000 strip compresses to KBs."""
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def unusable(path, *args) -> str:
    with pytest.raises(Unusable) as info:
        (load_image if str(path).endswith(".png") else load_text)(str(path), *args)
    return str(info.value)


def test_the_apps_pixel_cap_is_within_pillows():
    assert MAX_IMAGE_PIXELS <= Image.MAX_IMAGE_PIXELS


def test_decompression_bombs_are_unusable_in_words_and_pillow_stays_quiet(tmp_path):
    for side in (100_000, 15_000, 9_500):  # over twice Pillow's cap (its error), over it (its warning), over ours
        (tmp_path / f"bomb{side}.png").write_bytes(png_header_only(side, side))
    script = f"""
from pathlib import Path
from sslstudio.core.data.loaders import Unusable, load_image
for path in sorted(Path({str(tmp_path)!r}).glob("bomb*.png")):
    try:
        load_image(str(path), 32)
    except Unusable as exc:
        print(path.name, exc)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    reasons = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert reasons["bomb9500.png"].startswith("image too large (9500x9500 pixels; at most 89 million pixels")
    assert all(reason.startswith("image too large") for reason in reasons.values()) and len(reasons) == 3


def test_extreme_strips_are_cut_before_resizing_or_refused_by_their_side(tmp_path):
    (tmp_path / "tall.png").write_bytes(strip_png(1, 60_000))  # a few KB; resized whole it was 32 x 1.9M
    (tmp_path / "taller.png").write_bytes(strip_png(1, 1_000_000))
    (tmp_path / "wide.png").write_bytes(strip_png(4_000_000, 2))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    pixels = load_image(str(tmp_path / "tall.png"), 32)
    assert pixels.shape == (32, 32, 3) and (pixels == 128).all()
    assert "65535 per side" in unusable(tmp_path / "taller.png", 32)
    assert "65535 per side" in unusable(tmp_path / "wide.png", 32)
    assert time.perf_counter() - started < 5  # the 1 x 1,000,000 strip took 22 s
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KB; it took 5.3 GB


def test_a_csv_header_of_one_huge_field_and_a_long_cell(tmp_path):
    (tmp_path / "header.csv").write_text("x" * 200_000 + "\nhello\n")
    assert "no 'text' column" in unusable(tmp_path / "header.csv", "header.csv", InputSpec())
    (tmp_path / "long.csv").write_text("text\n" + "word " * 60_000 + "\n")  # 300 KB in one cell is a text
    [(_, text)] = load_text(str(tmp_path / "long.csv"), "long.csv", InputSpec())
    assert len(text) > 250_000


def test_jsonl_lines_nested_too_deep_or_broken_are_counted_not_crashed(tmp_path):
    lines = ['{"text": "a good line"}', "[" * 200_000, "{broken", '{"text": "another"}']
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    samples = load_text(str(tmp_path / "t.jsonl"), "t.jsonl", InputSpec())
    assert [text for _, text in samples] == ["a good line", "another"]
    assert samples.skipped.startswith("2 of 4 lines skipped (line 2: JSON nested too deeply; line 3: not valid JSON")
    (tmp_path / "deep.jsonl").write_text("[" * 200_000 + "\n")
    assert "nested too deeply" in unusable(tmp_path / "deep.jsonl", "deep.jsonl", InputSpec())


def test_broken_lines_reach_the_folders_report_and_the_store_keeps_them(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    good = [f'{{"text": "sentence number {i} is here"}}' for i in range(30)]
    (folder / "a.jsonl").write_text("\n".join(good[:15] + ["{oops"] + good[15:]) + "\n")
    for _attempt in range(2):  # decoded, then read back from the store
        samples = load_folder(folder, "text")
        assert len(samples) == 30
        [note] = samples.notes  # a usable file: noted, not among the unusable ones
        assert samples.bad == [] and note.path == "a.jsonl" and note.reason.startswith("1 of 31 lines skipped (line 16")
    assert check_files(folder, ["a.jsonl"], "text") == []  # what the Data page lists as unusable


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


@needs_fifo
def test_pipes_and_devices_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    os.symlink(tmp_path / "pipe.png", tmp_path / "link-to-pipe.wav")
    os.symlink("/dev/zero", tmp_path / "zero.txt")
    outcome = {}

    def probe():
        for name in ("pipe.png", "link-to-pipe.wav", "zero.txt"):
            with pytest.raises(Unusable) as info:
                open_regular(str(tmp_path / name))
            outcome[name] = str(info.value)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "opening a FIFO blocked"
    assert outcome == {"pipe.png": "not a regular file (a pipe)", "link-to-pipe.wav": "not a regular file (a pipe)",
                       "zero.txt": "not a regular file (a device)"}


@needs_fifo
def test_the_scan_names_what_a_link_points_at(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "ok.png")
    os.mkfifo(tmp_path / ".fifo")
    os.symlink(tmp_path / ".fifo", tmp_path / "fifo.png")
    os.symlink("/dev/zero", tmp_path / "zero.png")
    os.symlink(tmp_path / "missing.png", tmp_path / "dangling.png")
    reasons = {bad.path: bad.reason for bad in scan_folder(tmp_path).bad}
    assert reasons == {"dangling.png": "broken symbolic link: its target does not exist",
                       "fifo.png": "symbolic link to a pipe, not a regular file",
                       "zero.png": "symbolic link to a device, not a regular file"}


@needs_fifo
def test_a_file_swapped_for_a_fifo_after_the_scan_is_skipped_not_waited_on(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(np.full((8, 8, 3), i * 40, np.uint8)).save(folder / f"{i}.png")
    script = f"""
import os
from sslstudio.core.data import dataset, scan
real_scan = scan.scan_folder
def scan_then_swap(root, progress=None):
    result = real_scan(root, progress)
    os.remove({str(folder / "2.png")!r}); os.mkfifo({str(folder / "2.png")!r})
    return result
dataset.scan_folder = scan_then_swap
samples = dataset.load_folder({str(folder)!r}, "image")
print(len(samples), samples.bad[0].reason)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3 not a regular file (a pipe)"


def test_decoding_threads_share_a_memory_budget():
    from sslstudio.core.data.loaders import _MemoryBudget

    budget, order = _MemoryBudget(100), []
    first_holds, release_first = threading.Event(), threading.Event()

    def big(name, nbytes, hold=None):
        with budget.holding(nbytes):
            order.append(f"{name} in")
            if hold is not None:
                first_holds.set()
                release_first.wait(10)
            order.append(f"{name} out")

    first = threading.Thread(target=big, args=("first", 80, True))
    first.start()
    first_holds.wait(10)
    second = threading.Thread(target=big, args=("second", 80))  # 160 > 100: waits for the first
    alone = threading.Thread(target=big, args=("small", 10))  # 90 <= 100: goes ahead
    second.start()
    alone.start()
    alone.join(10)
    assert order == ["first in", "small in", "small out"]
    release_first.set()
    first.join(10)
    second.join(10)
    assert order[-2:] == ["second in", "second out"] and budget.used == 0
    huge = threading.Thread(target=big, args=("huge", 10_000))  # larger than the budget: goes when alone
    huge.start()
    huge.join(10)
    assert order[-1] == "huge out"


def test_an_odd_sample_rate_resamples_without_a_giant_kernel(tmp_path):
    import wave

    import torchaudio.functional  # noqa: F401 - imported first, so its own memory is not counted

    from sslstudio.core.data.loaders import AudioSegments

    with wave.open(str(tmp_path / "odd.wav"), "wb") as w:  # 8077 Hz shares no factor with 16 kHz
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8077)
        w.writeframes((np.sin(np.arange(8077 * 2) * 0.1) * 9000).astype("<i2").tobytes())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    [(_, wave_16k)] = list(AudioSegments(str(tmp_path / "odd.wav"), 16000, 10.0))
    assert abs(len(wave_16k) - 32000) <= 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KB; the exact kernel took 1 GB


def test_working_files_a_killed_job_left_are_removed_after_a_day(tmp_path):
    from sslstudio.core.io import STALE_SECONDS, remove_stale

    old, fresh = tmp_path / ".vectors-abc.partial", tmp_path / ".vectors-def.partial"
    for path in (old, fresh):
        path.write_bytes(b"rows")
    long_ago = time.time() - STALE_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    remove_stale(tmp_path, "*.partial")
    assert not old.exists() and fresh.exists()  # another job may still be writing the fresh one

"""Every kind of bad file is skipped with a clear reason; the good files still load and train."""
import io
import os
import shutil
import wave

import numpy as np
import pytest
from PIL import Image

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.loaders import AudioSegments, InputSpec, Unusable, load_image, load_text
from sslstudio.core.errors import UserError

SPEC = InputSpec()


def png_bytes(size=(20, 12), mode="RGB"):
    buffer = io.BytesIO()
    Image.new(mode, size, 128).save(buffer, format="PNG")
    return buffer.getvalue()


def wav_bytes(seconds=0.5, rate=8000):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        tone = (np.sin(np.arange(int(seconds * rate)) * 0.3) * 8000).astype("<i2")
        w.writeframes(np.repeat(tone, 2).tobytes())
    return buffer.getvalue()


def reason(loader, path, *extra):
    with pytest.raises(Unusable) as info:
        loader(str(path), *extra)
    return str(info.value)


def test_corrupt_png(tmp_path):
    (tmp_path / "bad.png").write_bytes(png_bytes()[:40])
    assert "corrupt" in reason(load_image, tmp_path / "bad.png", 32) or "truncated" in reason(
        load_image, tmp_path / "bad.png", 32)


def test_text_named_png(tmp_path):
    (tmp_path / "fake.png").write_text("hello")
    assert "not a readable image" in reason(load_image, tmp_path / "fake.png", 32)


def test_image_modes_and_sizes_are_normalised(tmp_path):
    (tmp_path / "grey.png").write_bytes(png_bytes((50, 30), "L"))
    (tmp_path / "alpha.png").write_bytes(png_bytes((10, 40), "RGBA"))
    for name in ("grey.png", "alpha.png"):
        pixels = load_image(str(tmp_path / name), 37)
        assert pixels.shape == (37, 37, 3) and pixels.dtype == np.uint8


def test_truncated_wav_mid_data_and_mid_header(tmp_path):
    data = wav_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    assert "truncated WAV" in reason(AudioSegments, tmp_path / "cut.wav", 16000, 10.0)
    (tmp_path / "stub.wav").write_bytes(data[:30])
    assert "truncated" in reason(AudioSegments, tmp_path / "stub.wav", 16000, 10.0) or "not readable" in reason(
        AudioSegments, tmp_path / "stub.wav", 16000, 10.0)


def test_good_wav_is_mixed_to_mono_and_resampled(tmp_path):
    (tmp_path / "ok.wav").write_bytes(wav_bytes(seconds=0.5, rate=8000))
    [(start, clip)] = AudioSegments(str(tmp_path / "ok.wav"), 16000, 10.0)
    assert start == 0 and clip.shape == (8000,) and clip.dtype == np.float32  # 0.5 s at 16 kHz
    assert np.abs(clip).max() > 0.1  # the tone survived


def test_binary_named_txt_empty_and_non_utf8(tmp_path):
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "latin1.txt").write_bytes("café crème".encode("latin-1"))
    (tmp_path / "blank.md").write_text("   \n\n")
    assert "binary" in reason(load_text, tmp_path / "binary.txt", "binary.txt", SPEC)
    assert reason(load_text, tmp_path / "empty.txt", "empty.txt", SPEC) == "empty file"
    assert "not UTF-8" in reason(load_text, tmp_path / "latin1.txt", "latin1.txt", SPEC)
    assert "whitespace" in reason(load_text, tmp_path / "blank.md", "blank.md", SPEC)


def test_jsonl_and_csv_give_one_sample_per_row(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "first"}\nnot json\n{"text": ""}\n{"text": "second"}\n')
    (tmp_path / "b.csv").write_text("id,Text\n1,hello there\n2,\n3,\"quoted, with comma\"\n")
    (tmp_path / "c.csv").write_text("id,body\n1,x\n")
    assert load_text(str(tmp_path / "a.jsonl"), "a.jsonl", SPEC) == [("a.jsonl#1", "first"), ("a.jsonl#4", "second")]
    assert load_text(str(tmp_path / "b.csv"), "b.csv", SPEC) == [("b.csv#2", "hello there"),
                                                                  ("b.csv#4", "quoted, with comma")]
    assert "no 'text' column" in reason(load_text, tmp_path / "c.csv", "c.csv", SPEC)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_by_permission(tmp_path):
    path = tmp_path / "locked.txt"
    path.write_text("secret")
    path.chmod(0)
    assert reason(load_text, path, "locked.txt", SPEC) == "permission denied"


def test_folder_with_every_kind_of_bad_file_still_loads_the_good_ones(tiny_images):
    bad = tiny_images / "0_t-shirt_top"
    (bad / "corrupt.png").write_bytes(png_bytes()[:50])
    (bad / "empty.png").write_bytes(b"")
    (bad / "notes.txt").write_text("not an image; ignored for an image run")
    os.symlink(tiny_images / "gone.png", bad / "dangling.png")
    odd = tiny_images / "1_trouser" / "ünïcödé name with  spaces.png"
    shutil.copyfile(next((tiny_images / "1_trouser").glob("*.png")), odd)
    samples = load_folder(tiny_images, "image")
    reasons = {b.path: b.reason for b in samples.bad}
    assert set(reasons) == {"0_t-shirt_top/corrupt.png", "0_t-shirt_top/empty.png", "0_t-shirt_top/dangling.png"}
    assert reasons["0_t-shirt_top/empty.png"] == "empty file"
    assert len(samples) == 4 * 12 + 1
    assert "1_trouser/ünïcödé name with  spaces.png" in samples.ids


def test_folder_of_only_bad_files_is_a_clear_error(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(UserError, match="no usable image files.*empty file"):
        load_folder(tmp_path, "image")


def test_huge_text_file_is_cut_not_lost_even_mid_character(tmp_path):
    from sslstudio.core.data.loaders import MAX_TEXT_BYTES

    path = tmp_path / "long.txt"
    path.write_bytes(b"a" * (MAX_TEXT_BYTES - 1) + "é and more".encode())
    [(sample_id, text)] = load_text(str(path), "long.txt", SPEC)
    assert sample_id == "long.txt" and len(text) == MAX_TEXT_BYTES - 1


def test_check_files_names_the_unusable_ones_and_can_be_stopped(tmp_path, tiny_images):
    from sslstudio.core.data.dataset import check_files
    from sslstudio.core.data.scan import scan_folder
    from sslstudio.core.errors import Cancelled

    broken = tiny_images / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    relpaths = scan_folder(tiny_images).files["image"]
    bad = check_files(tiny_images, relpaths, "image")
    assert [b.path for b in bad] == ["broken.png"] and bad[0].reason

    def stop(done, total):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        check_files(tiny_images, relpaths * 20, "image", progress=stop)

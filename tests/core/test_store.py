"""The sample store: decoded once, updated incrementally, resumable after a kill, read by windows."""
import os
import signal
import subprocess
import sys
import time
import wave

import numpy as np
import pytest
from PIL import Image

from sslstudio.core.data.dataset import check_files, load_folder
from sslstudio.core.data.loaders import InputSpec, load_image
from sslstudio.core.data.records import stored_side
from sslstudio.core.data.store import SampleStore
from sslstudio.core.data.store_list import clear_stores, list_stores
from sslstudio.core.errors import Cancelled
from sslstudio.core.models.inputs import Pipeline
from tests.conftest import make_images

SPEC = InputSpec(image_size=16)


def store_of(folder, modality="image", spec=SPEC):
    return SampleStore.for_folder(folder, modality, spec)


def pixels_of(samples, i):
    return samples.records.images(np.array([i]))[0]


def test_a_folder_is_decoded_once_then_read_from_the_store(tmp_path):
    folder = make_images(tmp_path / "photos", 600)  # more than a preview's handful: stored, not in memory
    samples = load_folder(folder, "image", spec=SPEC)
    store = store_of(folder)
    data = store.data_path
    assert samples.records.store is not None and len(samples) == 600
    assert data.stat().st_size == 600 * 3 * stored_side(16) ** 2
    for i in (0, 299, 599):  # what is read back is what the decoder makes of the file
        expected = load_image(str(folder / samples.ids[i]), stored_side(16))
        np.testing.assert_array_equal(pixels_of(samples, i), expected)
    before = (data.stat().st_size, data.stat().st_mtime_ns)
    again = load_folder(folder, "image", spec=SPEC)
    assert (data.stat().st_size, data.stat().st_mtime_ns) == before  # nothing decoded the second time
    assert again.ids == samples.ids and again.labels == samples.labels


def test_added_removed_and_changed_files_update_the_store_without_a_rebuild(tmp_path):
    folder = make_images(tmp_path / "photos", 600)
    load_folder(folder, "image", spec=SPEC)
    record = 3 * stored_side(16) ** 2
    size = store_of(folder).data_path.stat().st_size
    make_images(folder, 2, start=600)  # two new files
    (folder / "class0" / "img0000.png").unlink()  # one removed
    changed = folder / "class1" / "img0001.png"
    Image.new("RGB", (40, 30), (250, 10, 10)).save(changed)  # one changed
    os.utime(changed, ns=(time.time_ns(), time.time_ns() + 10**9))
    samples = load_folder(folder, "image", spec=SPEC)
    assert store_of(folder).data_path.stat().st_size == size + 3 * record  # only three records decoded
    assert len(samples) == 601 and "class0/img0000.png" not in samples.ids
    assert {"class0/img0600.png", "class1/img0601.png"} <= set(samples.ids)
    red = pixels_of(samples, samples.ids.index("class1/img0001.png"))
    assert red[..., 0].min() == 250 and red[..., 1].max() == 10


def test_a_cancelled_build_keeps_what_it_committed_and_carries_on(tmp_path, monkeypatch):
    import sslstudio.core.data.store as store_module

    monkeypatch.setattr(store_module, "COMMIT_SECONDS", 0.0)  # commit after every file
    folder = make_images(tmp_path / "photos", 700)
    relpaths = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.png"))

    def stop_after_200(done, total):
        if done > 200:
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        check_files(folder, relpaths, "image", SPEC, progress=stop_after_200)
    kept = len(store_of(folder).entries(relpaths))
    assert 200 <= kept < 700
    decoded = []
    check_files(folder, relpaths, "image", SPEC, progress=lambda done, total: decoded.append(total))
    assert decoded[-1] == 700 - kept  # the second run decodes only the rest
    samples = load_folder(folder, "image", spec=SPEC)
    np.testing.assert_array_equal(pixels_of(samples, 650), load_image(str(folder / samples.ids[650]), stored_side(16)))


KILLED_BUILD = """
import sys, time
from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.loaders import InputSpec
import sslstudio.core.data.records as records
import sslstudio.core.data.store as store
store.COMMIT_SECONDS = 0.05
decode = records.decode
records.decode = lambda *args: (time.sleep(0.01), decode(*args))[1]  # slow enough to be killed mid-way
print("started", flush=True)
load_folder(sys.argv[1], "image", spec=InputSpec(image_size=16))
"""


def test_a_build_killed_mid_write_resumes_and_nothing_is_corrupt(tmp_path):
    folder = make_images(tmp_path / "photos", 1500)
    store = store_of(folder)  # created here: creating it waits for a build that holds it
    process = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(folder)], stdout=subprocess.PIPE)
    process.stdout.readline()
    relpaths = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.png"))
    deadline = time.monotonic() + 120
    while stored_files(store) < 300 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    kept = len(store.entries(relpaths))
    assert 300 <= kept < 1500, "the build was not killed mid-way"
    with open(store.data_path, "ab") as f:
        f.write(b"\xff" * 5000)  # bytes written after the last commit, as a kill can leave them
    samples = load_folder(folder, "image", spec=SPEC)
    assert len(samples) == 1500 and store.data_path.stat().st_size == 1500 * 3 * stored_side(16) ** 2
    for i in range(0, 1500, 97):
        np.testing.assert_array_equal(pixels_of(samples, i), load_image(str(folder / samples.ids[i]), stored_side(16)))


def stored_files(store) -> int:
    import sqlite3

    with sqlite3.connect(store.path / "index.sqlite", timeout=30) as db:
        return db.execute("SELECT COUNT(*) FROM files").fetchone()[0]


def write_texts(folder, count, vocabulary, length, seed, digits=3):
    """`count` texts t000.txt... of random words from `vocabulary`, text i holding length(i) words."""
    folder.mkdir()
    words, rng = vocabulary.split(), np.random.default_rng(seed)
    for i in range(count):
        (folder / f"t{i:0{digits}d}.txt").write_text(" ".join(rng.choice(words, length(i))))
    return folder


def write_wav(path, seconds, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    tone = (np.sin(2 * np.pi * 440 * t) * 0.5 * 32767).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(tone.tobytes())


def test_a_long_recording_becomes_samples_that_say_where_they_start(tmp_path):
    write_wav(tmp_path / "clips" / "talk.wav", 25.0)
    write_wav(tmp_path / "clips" / "short.wav", 0.5)
    spec = InputSpec(audio_seconds=1.0)
    samples = load_folder(tmp_path / "clips", "audio", spec=spec)
    assert samples.ids == ["short.wav", "talk.wav#t=0", "talk.wav#t=10", "talk.wav#t=20"]
    assert samples.records.clip_lengths().tolist() == [8000, 160000, 160000, 80000]
    pipeline = Pipeline("audio", spec)
    train = pipeline.training_raw(samples, np.arange(4), seed=1)
    again = pipeline.training_raw(samples, np.arange(4), seed=1)
    other = pipeline.training_raw(samples, np.arange(4), seed=2)
    assert train.shape == (4, 16000) and np.array_equal(train, again) and not np.array_equal(train, other)
    evaluated = pipeline.eval_raw(samples)
    assert evaluated[0, :4000].abs().max() == 0 and evaluated[0, 4000:12000].abs().max() > 0.4  # padded around
    assert evaluated[1:].abs().max(dim=1).values.min() > 0.4  # the long clip's windows are all sound


def test_text_tokens_are_kept_per_tokenizer_and_read_in_windows(tmp_path):
    folder = write_texts(tmp_path / "texts", 600, "the quick brown fox jumps over the lazy dog while seven zebras "
                         "quietly graze", length=lambda i: 60 if i else 400, seed=0)
    spec = InputSpec(text_tokens=16, vocab_size=200)
    samples = load_folder(folder, "text", spec=spec)
    pipeline = Pipeline.fit(samples)
    first = pipeline.eval_raw(samples, [0, 1])
    tokens = list(store_of(folder, "text", spec).path.glob("tokens-*.bin"))
    assert len(tokens) == 1 and first.shape == (2, 16)
    assert first[:, 0].tolist() == [2, 2] and first[:, 15].tolist() == [3, 3]  # [CLS] ... [SEP]
    windows = {tuple(pipeline.training_raw(samples, [0], seed=s)[0].tolist()) for s in range(6)}
    assert len(windows) > 1  # the long text is read at different places
    expected = pipeline.tokenizer.encode(samples.texts([1])[0]).ids[:16]
    assert pipeline.eval_raw(samples, [1])[0].tolist()[:15] == expected[:15]


def test_stores_are_listed_and_cleared(tmp_path):
    folder = make_images(tmp_path / "photos", 600)
    load_folder(folder, "image", spec=SPEC)
    root = store_of(folder).path.parent
    mine = [s for s in list_stores(root) if s.folder == str(folder.resolve())]
    assert len(mine) == 1 and mine[0].samples == 600 and mine[0].bytes > 600 * 3 * 18 * 18
    from sslstudio.core.data.store_tokens import TOKENS_LOCK
    from sslstudio.core.io import try_lock, unlock

    with open(mine[0].path / TOKENS_LOCK, "a+b") as writing_tokens:  # a text job adding token ids
        assert try_lock(writing_tokens)
        removed, busy = clear_stores(root, str(folder))
        assert removed == [] and [s.path for s in busy] == [mine[0].path] and mine[0].path.exists()
        unlock(writing_tokens)
    removed, busy = clear_stores(root, str(folder))
    assert [s.path for s in removed] == [mine[0].path] and busy == [] and not mine[0].path.exists()


def test_token_ids_stay_right_when_texts_change_and_after_a_killed_write(tmp_path):
    folder = write_texts(tmp_path / "texts", 40, "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda",
                         length=lambda i: 12, seed=1, digits=2)
    spec = InputSpec(text_tokens=16, vocab_size=120)
    pipeline = Pipeline.fit(load_folder(folder, "text", spec=spec))
    tokens = next(store_of(folder, "text", spec).path.glob("tokens-*.bin"))
    with open(tokens, "ab") as f:
        f.write(b"\x07" * 999)  # ids a killed tokenizing job wrote past its last commit
    (folder / "t03.txt").write_text("kappa kappa lambda")  # a changed text
    os.utime(folder / "t03.txt", ns=(time.time_ns(), time.time_ns() + 10**9))
    (folder / "t40.txt").write_text("zeta eta theta")  # a new one
    samples = load_folder(folder, "text", spec=spec)
    stored = pipeline.eval_raw(samples)  # the same tokenizer: only the changed and new texts are tokenized
    expected = [pipeline.tokenizer.encode(text).ids for text in samples.texts()]
    assert [row[:len(ids)].tolist() for row, ids in zip(stored, expected, strict=True)] == expected


def test_a_long_recording_is_written_as_it_is_read_and_a_hostile_file_does_not_stop_the_folder(tmp_path):
    import struct
    import zlib

    write_wav(tmp_path / "clips" / "hour.wav", 65.0)  # seven segments: read while written, never whole
    write_wav(tmp_path / "clips" / "short.wav", 2.0)
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)  # a 69-byte PNG claiming 10^10 pixels
    chunk = b"IHDR" + header
    bomb = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "bomb.png").write_bytes(bomb + b"\x00\x00\x00\x00IEND\xaeB`\x82")
    make_images(tmp_path / "pictures", 3)
    samples = load_folder(tmp_path / "clips", "audio", spec=InputSpec())
    assert [i for i in samples.ids if i.startswith("hour")] == [f"hour.wav#t={10 * k}" for k in range(7)]
    assert samples.records.clip_lengths()[samples.ids.index("hour.wav#t=60")] == 16000 * 5  # the last 5 s
    pictures = load_folder(tmp_path / "pictures", "image", spec=SPEC)
    assert len(pictures) == 3 and pictures.bad[0].reason.startswith("image too large")


def test_a_file_rewritten_with_its_size_and_mtime_kept_is_decoded_again(tmp_path):
    folder = make_images(tmp_path / "photos", 30)
    picture = folder / "class0" / "same.bmp"
    Image.new("RGB", (20, 20), (0, 0, 250)).save(picture)
    samples = load_folder(folder, "image", spec=SPEC)
    before = os.stat(picture)
    Image.new("RGB", (20, 20), (250, 0, 0)).save(picture)  # what `cp -p`, `rsync -a` or `tar x` leave
    os.utime(picture, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (os.stat(picture).st_size, os.stat(picture).st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    again = load_folder(folder, "image", spec=SPEC)
    red = pixels_of(again, again.ids.index("class0/same.bmp"))
    assert red[..., 0].min() == 250 and red[..., 2].max() == 0
    assert pixels_of(samples, samples.ids.index("class0/same.bmp"))[..., 2].min() == 250  # the old record stays

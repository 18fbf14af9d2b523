"""Fuzzing with Hypothesis: whatever bytes a file holds, a loader returns a sample or raises Unusable
(a label CSV or project file: UserError), within a time and memory budget.

The inputs are random bytes and, more usefully, real files with bytes flipped, cut or spliced. CI runs
`FUZZ_EXAMPLES` examples per property (default 60); `python bench/fuzz.py` runs thousands.
"""
import io
import json
import os
import resource
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import torchaudio.functional  # noqa: F401 - imported before the memory budget starts: resampling uses it
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from sslstudio.core.data.labels import load_labelled
from sslstudio.core.data.loaders import AudioSegments, InputSpec, Unusable, load_image, load_text
from sslstudio.core.errors import UserError
from sslstudio.core.project import Project, load_project

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
SECONDS_PER_FILE = 5.0
PEAK_GROWTH_KB = 400_000  # no one file may raise the process's peak memory by more than 400 MB
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _image_bytes(fmt: str) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)).save(buffer, format=fmt)
    return buffer.getvalue()


def _wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((np.sin(np.arange(4000) * 0.2) * 9000).astype("<i2").tobytes())
    return buffer.getvalue()


SEEDS = {"png": _image_bytes("PNG"), "jpg": _image_bytes("JPEG"), "gif": _image_bytes("GIF"),
         "bmp": _image_bytes("BMP"), "wav": _wav_bytes()}


@st.composite
def damaged(draw, seed: bytes) -> bytes:
    """A real file with some of: bytes flipped, a cut, a splice of random bytes, or random bytes alone."""
    data = bytearray(seed)
    kind = draw(st.sampled_from(["flip", "cut", "splice", "random", "flip+cut"]))
    if kind == "random":
        return draw(st.binary(max_size=4096))
    if "flip" in kind:
        for _ in range(draw(st.integers(1, 16))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
    if "cut" in kind:
        data = data[:draw(st.integers(0, len(data)))]
    if kind == "splice":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=256))
    return bytes(data)


class Budget:
    """Time and memory per file. (The peak over thousands of files is not bounded here: the allocator's
    high-water mark creeps up with fragmentation, and says nothing about one file.)"""

    def __call__(self, work):
        started, peak_before = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            return work()
        finally:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            assert time.perf_counter() - started < SECONDS_PER_FILE
            assert peak - peak_before < PEAK_GROWTH_KB


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def budget():
    return Budget()


def outcome(work):
    """The loader's result, or the Unusable/UserError it raised; anything else fails the test."""
    try:
        return work()
    except (Unusable, UserError) as exc:
        return exc


@FUZZ
@given(data=st.one_of(*(damaged(SEEDS[f]) for f in ("png", "jpg", "gif", "bmp"))), side=st.sampled_from([8, 32]))
def test_images(scratch, budget, data, side):
    path = scratch / "x.png"
    path.write_bytes(data)
    result = budget(lambda: outcome(lambda: load_image(str(path), side)))
    if not isinstance(result, Exception):
        assert result.shape == (side, side, 3) and result.dtype == np.uint8


@FUZZ
@given(data=damaged(SEEDS["wav"]))
def test_audio(scratch, budget, data):
    path = scratch / "x.wav"
    path.write_bytes(data)

    def read():
        return [wave for _, wave in AudioSegments(str(path), 16000, 10.0)]

    result = budget(lambda: outcome(read))
    if not isinstance(result, Exception):
        assert result and all(w.dtype == np.float32 and np.isfinite(w).all() for w in result)


TEXTY = st.one_of(st.text(max_size=2000), st.binary(max_size=2000).map(lambda b: b.decode("latin-1")),
                  st.lists(st.sampled_from(['{"text": "a b"}', "[" * 3000, '{"text": 1}', "text", '"q', ",",
                                            "\x00", "\r", "\ufeff", "x" * 5000]), max_size=30).map("\n".join))


@FUZZ
@given(body=TEXTY, suffix=st.sampled_from([".txt", ".jsonl", ".csv"]), raw=st.booleans())
def test_text(scratch, budget, body, suffix, raw):
    path = scratch / f"x{suffix}"
    path.write_bytes(body.encode("utf-8", "surrogatepass") if not raw else body.encode("latin-1", "replace"))
    result = budget(lambda: outcome(lambda: load_text(str(path), path.name, InputSpec())))
    if not isinstance(result, Exception):
        assert result and all(isinstance(text, str) and text for _, text in result)


@FUZZ
@given(body=TEXTY)
def test_label_csv(scratch, budget, body):
    (scratch / "a.png").write_bytes(SEEDS["png"])
    path = scratch / "labels.csv"
    path.write_text("path,label\n" + body, encoding="utf-8", errors="surrogatepass")
    budget(lambda: outcome(lambda: load_labelled(path, "image", InputSpec())))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children,
                                                                                        max_size=4), max_leaves=30)
FIELDS = st.sampled_from(["folder", "modality", "task", "task_args", "inputs", "train_settings", "runs", "labels",
                          "view", "version", "format"])


@FUZZ
@given(fields=st.dictionaries(FIELDS, JSON, max_size=6), as_text=st.one_of(st.none(), TEXTY))
def test_project_file(scratch, budget, fields, as_text):
    path = scratch / "p.sslproj"
    body = {"format": "sslstudio-project", "version": 2, **fields}
    path.write_text(as_text if as_text is not None else json.dumps(body), encoding="utf-8", errors="surrogatepass")
    result = budget(lambda: outcome(lambda: load_project(path)))
    if isinstance(result, Project):  # what loads is what the app expects of each field
        assert isinstance(result.task_args, dict) and isinstance(result.labels, dict)
        assert all(isinstance(r, dict) and isinstance(r["path"], str) for r in result.runs)
        assert result.folder is None or isinstance(result.folder, str)

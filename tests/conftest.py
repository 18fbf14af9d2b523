"""Shared fixtures: tiny real data sets copied from the bundled demo data into a temp folder."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"


@pytest.fixture(autouse=True, scope="session")
def private_sample_stores(tmp_path_factory):
    """Sample stores go to a folder of this test session, not the user's cache (subprocesses inherit it)."""
    import os

    os.environ["SSLSTUDIO_STORE"] = str(tmp_path_factory.mktemp("stores"))


def copy_subset(modality: str, dest: Path, classes: int, per_class: int) -> Path:
    for class_dir in sorted(p for p in (DEMO / modality).iterdir() if p.is_dir())[:classes]:
        target = dest / class_dir.name
        target.mkdir(parents=True)
        for f in sorted(class_dir.iterdir())[:per_class]:
            shutil.copyfile(f, target / f.name)
    return dest


def make_images(folder: Path, count: int, size: tuple[int, int] = (40, 30), start: int = 0) -> Path:
    """`count` random-pixel PNGs in three class folders (class{i % 3}/img{i}.png)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(start)
    for i in range(start, start + count):
        label = f"class{i % 3}"
        (folder / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(
            folder / label / f"img{i:04d}.png")
    return folder


@pytest.fixture
def tiny_images(tmp_path) -> Path:
    return copy_subset("image", tmp_path / "images", classes=4, per_class=12)


@pytest.fixture
def tiny_colour(tmp_path) -> Path:
    return copy_subset("emoji", tmp_path / "colour", classes=3, per_class=12)


@pytest.fixture
def tiny_audio(tmp_path) -> Path:
    return copy_subset("audio", tmp_path / "audio", classes=4, per_class=6)


@pytest.fixture
def tiny_text(tmp_path) -> Path:
    return copy_subset("text", tmp_path / "text", classes=3, per_class=20)


@pytest.fixture
def demo_dir() -> Path:
    return DEMO

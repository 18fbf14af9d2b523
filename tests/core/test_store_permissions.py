"""A store that cannot be written: read when nothing needs decoding, a plain message when something does. Root
ignores file permissions, so each check runs in a process without root's DAC override (setpriv)."""
import shutil
import subprocess
import sys

import pytest

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.data.store import SampleStore
from tests.conftest import make_images

SPEC = InputSpec(image_size=16)
WITHOUT_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
                    "--inh-caps", "-dac_override,-dac_read_search"]
LOAD = """
import sys
import numpy as np
from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.errors import UserError
try:
    samples = load_folder(sys.argv[1], "image", spec=InputSpec(image_size=16))
    samples.records.images(np.arange(len(samples)))
    print("loaded", len(samples))
except UserError as exc:
    print("refused:", exc)
"""

pytestmark = pytest.mark.skipif(shutil.which("setpriv") is None,
                                reason="setpriv (util-linux) is needed to drop root's permission override")


def load_unprivileged(folder) -> str:
    done = subprocess.run([*WITHOUT_OVERRIDE, sys.executable, "-c", LOAD, str(folder)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def read_only_store(tmp_path):
    folder = make_images(tmp_path / "photos", 30)
    load_folder(folder, "image", spec=SPEC)
    store = SampleStore.for_folder(folder, "image", SPEC).path
    subprocess.run(["chmod", "-R", "a-w", str(store)], check=True)
    yield folder, store
    subprocess.run(["chmod", "-R", "u+w", str(store)], check=True)


def test_a_complete_read_only_store_is_read(read_only_store):
    folder, _ = read_only_store
    assert load_unprivileged(folder) == "loaded 30"


def test_a_read_only_store_that_needs_decoding_says_so(read_only_store):
    folder, store = read_only_store
    make_images(folder, 2, start=30)
    said = load_unprivileged(folder)
    assert said.startswith("refused:") and "\n" not in said and str(store) in said
    assert "read-only" in said and "space" not in said and "--store" in said


def test_a_damaged_read_only_store_names_the_command_that_clears_it(tmp_path):
    folder = make_images(tmp_path / "photos", 30)
    load_folder(folder, "image", spec=SPEC)
    store = SampleStore.for_folder(folder, "image", SPEC).path
    with open(store / "index.sqlite", "r+b") as index:
        index.seek(4096)
        index.write(b"\x5a" * 60_000)
    subprocess.run(["chmod", "-R", "a-w", str(store)], check=True)
    try:
        said = load_unprivileged(folder)
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(store)], check=True)
    assert said.startswith("refused:") and "\n" not in said and "damaged" in said
    assert said.endswith(f"`sslstudio store clear {folder.resolve()}`")

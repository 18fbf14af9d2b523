"""A damaged sample store: found, named, rebuilt or cleared, never a traceback and never silent."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.loaders import InputSpec, load_image
from sslstudio.core.data.records import stored_side
from sslstudio.core.data.store import SampleStore
from sslstudio.core.data.store_list import clear_stores, list_stores
from sslstudio.core.errors import UserError
from tests.conftest import make_images

SPEC = InputSpec(image_size=16)


def store_of(folder):
    return SampleStore.for_folder(folder, "image", SPEC)


def scribble(path, offset, count, seed=0):
    """Random bytes over `count` bytes of a file from `offset` on, as a failing disk or a stray write leaves them."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(np.random.default_rng(seed).integers(0, 256, count, dtype=np.uint8).tobytes())


def assert_decoded_right(samples, folder):
    for i in range(0, len(samples), 7):
        expected = load_image(str(folder / samples.ids[i]), stored_side(16))
        np.testing.assert_array_equal(samples.records.images(np.array([i]))[0], expected)


def test_a_damaged_index_is_rebuilt_with_a_note(tmp_path):
    folder = make_images(tmp_path / "photos", 40)
    load_folder(folder, "image", spec=SPEC)
    store = store_of(folder)
    scribble(store.path / "index.sqlite", 4096, 60_000)  # page 2 on
    samples = load_folder(folder, "image", spec=SPEC)
    assert len(samples) == 40
    assert_decoded_right(samples, folder)
    notes = [note.reason for note in samples.notes]
    assert len(notes) == 1 and "damaged" in notes[0] and "rebuilt" in notes[0] and "\n" not in notes[0]


def test_a_damaged_index_is_listed_as_damaged_and_cleared_by_its_folder(tmp_path):
    folder = make_images(tmp_path / "photos", 40)
    other = make_images(tmp_path / "other", 10)
    load_folder(folder, "image", spec=SPEC)
    load_folder(other, "image", spec=SPEC)
    damaged, kept = store_of(folder).path, store_of(other).path
    scribble(damaged / "index.sqlite", 4096, 60_000)
    root = damaged.parent
    listed = {info.path: info for info in list_stores(root)}
    assert listed[damaged].damaged and "malformed" in listed[damaged].damaged and not listed[kept].damaged
    removed, busy = clear_stores(root, str(folder))
    assert [info.path for info in removed] == [damaged] and busy == [] and not damaged.exists() and kept.exists()


def test_the_cli_lists_and_clears_a_damaged_store(tmp_path):
    folder = make_images(tmp_path / "photos", 40)
    load_folder(folder, "image", spec=SPEC)
    store = store_of(folder)
    scribble(store.path / "index.sqlite", 4096, 60_000)
    env = {**os.environ, "SSLSTUDIO_STORE": str(store.path.parent)}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "sslstudio", *args], env=env, capture_output=True, text=True)

    listing = cli("store", "list")
    assert listing.returncode == 0 and "damaged" in listing.stdout and str(folder.resolve()) in listing.stdout
    cleared = cli("store", "clear", str(folder))
    assert cleared.returncode == 0 and "removed 1 store(s)" in cleared.stdout and not store.path.exists()


def test_a_damaged_record_is_an_error_and_the_next_run_decodes_only_the_damaged_files(tmp_path):
    folder = make_images(tmp_path / "photos", 40)
    samples = load_folder(folder, "image", spec=SPEC)
    record = 3 * stored_side(16) ** 2
    data = store_of(folder).data_path
    size = data.stat().st_size
    scribble(data, 10 * record + 5, 3 * record)  # the same size: records 10 to 13 damaged
    damaged = int(np.flatnonzero(samples.records.offsets == 11 * record)[0])
    with pytest.raises(UserError) as raised:
        samples.records.images(np.arange(40))
    message = str(raised.value)
    assert str(folder.resolve()) in message and "checksum" in message and "\n" not in message
    again = load_folder(folder, "image", spec=SPEC)
    assert_decoded_right(again, folder)
    np.testing.assert_array_equal(again.records.images(np.array([damaged]))[0],
                                  load_image(str(folder / samples.ids[damaged]), stored_side(16)))
    assert data.stat().st_size == size + 4 * record  # only the four damaged files were decoded again
    load_folder(folder, "image", spec=SPEC).records.images(np.arange(40))  # and nothing is left to complain of


def test_a_store_of_an_older_format_is_removed_with_a_note(tmp_path, monkeypatch):
    import sslstudio.core.data.store as store_module

    folder = make_images(tmp_path / "photos", 20)
    monkeypatch.setattr(store_module, "STORE_VERSION", store_module.STORE_VERSION - 1)
    load_folder(folder, "image", spec=SPEC)
    old = store_of(folder).path
    monkeypatch.undo()
    samples = load_folder(folder, "image", spec=SPEC)
    assert store_of(folder).path != old and not old.exists()
    [note] = samples.notes
    assert re.fullmatch(r"a store of this folder in an older format \([0-9.]+ KB\) was removed; the folder is "
                        r"decoded anew", note.reason)
    assert_decoded_right(samples, folder)


def test_a_store_file_cut_short_is_healed_and_its_message_names_the_folder(tmp_path):
    folder = make_images(tmp_path / "photos", 40)
    samples = load_folder(folder, "image", spec=SPEC)
    record = 3 * stored_side(16) ** 2
    data = store_of(folder).data_path
    os.truncate(data, 25 * record + 100)  # a copy or a full disk cut it: 15 records lost
    with pytest.raises(OSError) as raised:
        samples.records.images(np.arange(40))
    assert f"`sslstudio store clear {folder.resolve()}`" in str(raised.value)
    again = load_folder(folder, "image", spec=SPEC)
    assert_decoded_right(again, folder)
    assert data.stat().st_size == 25 * record + 100 + 15 * record  # only the lost ones were decoded again
    [note] = again.notes
    assert "cut short" in note.reason and "15 files" in note.reason

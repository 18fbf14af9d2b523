"""`embed --out` under odd names and odd places: a file name that is not UTF-8 reaches CSV and Parquet, and an
--out that cannot be a file is refused before any decoding, naming the --out given."""
import csv
import os

import pytest
from PIL import Image

from .test_end_to_end import cli


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("named")
    folder = tmp / "names"
    folder.mkdir()
    for i, raw in enumerate((b"plain.png", b"bad\xffname.png", b"other.png", b"fourth.png")):
        Image.new("RGB", (24, 24), (60 * i, 0, 0)).save(folder / os.fsdecode(raw), "PNG")
    cli("train", folder, "--task", "rotation", "--out", tmp / "run", "--max-steps", 1, "--batch-size", 4)
    return folder, tmp / "run"


def test_a_file_name_that_is_not_utf8_reaches_csv_and_parquet(named, tmp_path):
    import pyarrow.parquet as pq

    folder, run = named
    cli("embed", run, folder, "--out", tmp_path / "e.csv")
    cli("embed", run, folder, "--out", tmp_path / "e.parquet")
    with open(tmp_path / "e.csv", newline="", encoding="utf-8") as f:
        csv_ids = [row[0] for row in list(csv.reader(f))[1:]]
    expected = {"plain.png", "bad\\xffname.png", "other.png", "fourth.png"}
    assert set(csv_ids) == expected
    assert set(pq.read_table(tmp_path / "e.parquet").column("id").to_pylist()) == expected


def test_an_out_that_is_a_folder_is_refused_before_any_work(named, tmp_path):
    folder, run = named
    (tmp_path / "existing").mkdir()
    for out in (tmp_path / "existing", f"{tmp_path / 'existing'}/", f"{tmp_path / 'new'}/"):
        result = cli("embed", run, folder, "--out", out, expect=2)
        assert result.stderr == f"sslstudio: error: cannot write {out}: it is a folder, not a file name\n"
        assert "decoding" not in result.stderr
    assert not (tmp_path / "new").exists() and list((tmp_path / "existing").iterdir()) == []


def test_an_out_whose_folder_cannot_be_written_is_refused_before_any_work(named, tmp_path):
    folder, run = named
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: every folder is writable")
        for out in (locked / "e.csv", locked / "sub" / "e.csv"):
            result = cli("embed", run, folder, "--out", out, expect=2)
            assert result.stderr.startswith(f"sslstudio: error: cannot write {out}: ")
            assert result.stderr.count("\n") == 1
    finally:
        locked.chmod(0o700)


def test_a_file_cannot_be_written_into_a_folder_given_as_out(tmp_path):
    from sslstudio.core.io import atomic_write

    with pytest.raises(IsADirectoryError) as raised:  # what the workbench's Export map... and the API reach
        atomic_write(tmp_path, lambda f: f.write(b"x"))
    assert raised.value.filename == str(tmp_path) and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_an_out_in_a_place_no_folder_can_be_made_is_refused_before_any_work(named):
    folder, run = named
    result = cli("embed", run, folder, "--out", "/proc/self/no/e.csv", expect=2)
    assert result.stderr == ("sslstudio: error: cannot write /proc/self/no/e.csv: No such file or directory "
                             "(/proc/self/no)\n")

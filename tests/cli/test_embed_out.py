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

"""Embeddings out as npz, csv and parquet: every row's id, file, label, map point and vector, read back with
the readers other tools use."""
import csv
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sslstudio.core.embeddings.table import format_for, write_embeddings
from sslstudio.core.errors import UserError

IDS = ["cats/a.png", "dogs/b, with comma.png", "dogs/ünï.png"]
LABELS = ["cats", "dogs", None]


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    return rng.normal(size=(3, 5)).astype(np.float32), rng.normal(size=(3, 2)).astype(np.float32)


def test_npz_holds_vectors_ids_files_and_the_map(tmp_path, table):
    vectors, coords = table
    write_embeddings(tmp_path / "e.npz", vectors, IDS, tmp_path / "data", LABELS, coords)
    saved = np.load(tmp_path / "e.npz")
    assert np.array_equal(saved["embeddings"], vectors) and np.array_equal(saved["coords"], coords)
    assert saved["paths"].tolist() == IDS and saved["files"][1] == str((tmp_path / "data").resolve() / IDS[1])
    assert "labels" not in saved  # one sample has no label: a partial column would read as a class ""


def test_csv_has_one_row_per_sample_with_its_point_and_vector(tmp_path, table):
    vectors, coords = table
    assert write_embeddings(tmp_path / "e.csv", vectors, IDS, tmp_path, LABELS, coords) == "csv"
    with open(tmp_path / "e.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "filepath", "label", "x", "y", "e0", "e1", "e2", "e3", "e4"]
    assert [row[0] for row in rows[1:]] == IDS and [row[2] for row in rows[1:]] == ["cats", "dogs", ""]
    assert np.allclose(np.array(rows[2][5:], dtype=float), vectors[1], atol=1e-6)
    assert np.allclose(np.array(rows[3][3:5], dtype=float), coords[2], atol=1e-5)


def test_parquet_reads_back_with_a_vector_column(tmp_path, table):
    vectors, coords = table
    write_embeddings(tmp_path / "e.parquet", vectors, IDS, tmp_path, LABELS)
    read = pq.read_table(tmp_path / "e.parquet")
    assert read.column_names == ["id", "filepath", "label", "embedding"]  # no map: no x and y
    assert read.column("id").to_pylist() == IDS
    assert np.allclose(np.array(read.column("embedding").to_pylist()), vectors)


def test_the_format_follows_the_suffix_or_the_choice(tmp_path):
    assert format_for("e.CSV") == "csv" and format_for("e.parquet") == "parquet" and format_for("e.bin") == "npz"
    assert format_for("e.csv", "parquet") == "parquet"
    with pytest.raises(UserError, match="unknown embeddings format"):
        format_for("e.csv", "xlsx")


def test_a_file_name_that_is_not_utf8_is_written_escaped_and_reads_back(tmp_path, table):
    import os

    vectors, coords = table
    folder = tmp_path / "data"
    folder.mkdir()
    bad = os.fsdecode(b"bad\xffname.png")  # Linux allows any bytes but / in a name
    (folder / bad).write_bytes(b"")
    ids = ["a.png", bad, "c.png"]
    labels = ["cats", os.fsdecode(b"d\xe9gats"), None]
    write_embeddings(tmp_path / "e.csv", vectors, ids, folder, labels, coords)
    write_embeddings(tmp_path / "e.parquet", vectors, ids, folder, labels, coords)
    with open(tmp_path / "e.csv", newline="", encoding="utf-8") as f:  # strict: the file is valid UTF-8
        rows = list(csv.reader(f))[1:]
    read = pq.read_table(tmp_path / "e.parquet")
    for got_ids, got_files, got_labels in (([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
                                           (read.column("id").to_pylist(), read.column("filepath").to_pylist(),
                                            read.column("label").to_pylist())):
        assert got_ids == ["a.png", "bad\\xffname.png", "c.png"]  # the byte that is not UTF-8, as \xff
        assert got_files[1] == str(folder.resolve()) + "/bad\\xffname.png"
        assert got_labels == ["cats", "d\\xe9gats", ""]
    assert np.allclose(np.array(rows[1][5:], dtype=float), vectors[1], atol=1e-6)


def test_csv_text_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(tmp_path, table):
    vectors, coords = table
    vectors[0, 0] = -1.5  # numbers keep their sign: only the text columns are guarded
    ids = ['=HYPERLINK("http://x","y").png', "+1-2.png", "a=b.png"]
    labels = ["@SUM(A1)", "\tcats", "-dogs"]
    write_embeddings(tmp_path / "e.csv", vectors, ids, tmp_path, labels, coords)
    with open(tmp_path / "e.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    assert [row[0] for row in rows] == ['\'=HYPERLINK("http://x","y").png', "'+1-2.png", "a=b.png"]
    assert [row[2] for row in rows] == ["'@SUM(A1)", "'\tcats", "'-dogs"]
    assert rows[0][5] == "-1.5" and not any(row[1].startswith("'") for row in rows)  # filepath is absolute
    write_embeddings(tmp_path / "e.parquet", vectors, ids, tmp_path, labels, coords)
    assert pq.read_table(tmp_path / "e.parquet").column("id").to_pylist() == ids  # typed cells: nothing to guard


def test_a_segment_or_a_lines_filepath_is_its_file(tmp_path):
    from sslstudio.core.embeddings.table import write_embeddings

    ids = ["talk.wav#t=30", "notes.jsonl#12", "talk.wav#t=30.wav"]  # the last is a real file named like a segment
    write_embeddings(tmp_path / "e.csv", np.zeros((3, 2)), ids, tmp_path)
    rows = list(csv.reader(open(tmp_path / "e.csv", newline="", encoding="utf-8")))
    assert [Path(row[1]).name for row in rows[1:]] == ["talk.wav", "notes.jsonl", "talk.wav#t=30.wav"]
    assert [row[0] for row in rows[1:]] == ids

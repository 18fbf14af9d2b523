"""Label CSVs as users make them: repeated rows, rows naming missing files by the million, a pipe."""
import os
import threading
import time

import pytest

from sslstudio.core.data.labels import few_shot_split, load_labelled
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.errors import UserError


def csv_of(folder, rows, name="labels.csv"):
    path = folder / name
    path.write_text("path,label\n" + "".join(f"{p},{label}\n" for p, label in rows))
    return path


def real_rows(tiny_images):
    return [(p.relative_to(tiny_images).as_posix(), p.parent.name) for p in sorted(tiny_images.glob("*/*.png"))]


def test_repeated_rows_are_used_once_and_said(tiny_images):
    rows = real_rows(tiny_images)
    path = csv_of(tiny_images, rows + rows[:5] + [(rows[0][0], "another-class")])
    samples = load_labelled(path, None, InputSpec())
    assert len(samples) == len(rows) == len(set(samples.ids))  # a file in training and test inflated kNN
    [note] = samples.notes
    assert note.reason == "5 rows repeat a file listed above with the same label; each file is used once"
    assert [(bad.path, bad.reason) for bad in samples.bad] == [
        (rows[0][0], f"line 55 gives it the label 'another-class', an earlier row {rows[0][1]!r}; the row is "
                     f"skipped")]
    assert dict(zip(samples.ids, samples.labels))[rows[0][0]] == rows[0][1]  # the first label wins


def test_a_file_named_again_by_another_spelling_is_a_repeat(tiny_images):
    rows = real_rows(tiny_images)
    first, other = rows[0][0], rows[20][0]  # 0_t-shirt_top/..., 1_trouser/...
    aliases = [(f"../images/0_t-shirt_top/../{other}", "0_t-shirt_top"),  # the same image with another label
               (f"./{first}", rows[0][1]), (str(tiny_images / first), rows[0][1])]  # and twice with its own
    samples = load_labelled(csv_of(tiny_images, rows + aliases), None, InputSpec())
    assert len(samples) == len(rows) == len(set(samples.ids))  # it was used twice, with labels a and b
    assert [bad.path for bad in samples.bad] == [aliases[0][0]]
    assert "gives it the label '0_t-shirt_top', an earlier row '1_trouser'" in samples.bad[0].reason
    assert samples.notes[0].reason.startswith("2 rows repeat a file listed above with the same label")


def test_a_million_rows_of_missing_files_are_counted_quickly(tiny_images):
    rows = real_rows(tiny_images) + [(f"gone/{i}.png", "x") for i in range(1_000_000)]
    path = csv_of(tiny_images, rows)
    started = time.perf_counter()
    samples = load_labelled(path, None, InputSpec())
    assert time.perf_counter() - started < 30  # it took 66 s and 5 GB
    assert len(samples) == 48 and len(samples.bad) == 21  # 20 named, then one line for the rest
    assert samples.bad[-1].reason == "999980 more rows name files that are not found"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_csv_naming_a_pipe_or_being_one_never_waits(tiny_images, tmp_path):
    os.mkfifo(tiny_images / "pipe.png")
    os.mkfifo(tmp_path / "fifo.csv")
    outcome = {}

    def load():
        outcome["samples"] = load_labelled(csv_of(tiny_images, real_rows(tiny_images) + [("pipe.png", "a")]),
                                           None, InputSpec())
        with pytest.raises(UserError, match="not a regular file"):
            load_labelled(tmp_path / "fifo.csv", None, InputSpec())
        outcome["done"] = True

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(60)
    assert outcome.get("done"), "a pipe was waited on"
    assert [b.path for b in outcome["samples"].bad] == ["pipe.png"]


def test_rows_without_a_label_are_counted_and_the_first_named(tiny_images):
    rows = real_rows(tiny_images)
    blanked = [(p, "" if i % 3 == 0 else label) for i, (p, label) in enumerate(rows)] + [(rows[1][0] + "x", "  ")]
    samples = load_labelled(csv_of(tiny_images, blanked), None, InputSpec())
    assert len(samples) == 32
    [said] = [bad for bad in samples.bad if "no label" in bad.reason]
    assert said.path == "labels.csv"
    assert said.reason == (f"17 rows have no label or no path and are left out: line 2 ({rows[0][0]}), "
                           f"line 5 ({rows[3][0]}), line 8 ({rows[6][0]}), ...")
    with pytest.raises(UserError, match="labels.csv has no row with both a path and a label"):
        load_labelled(csv_of(tiny_images, [(p, "") for p, _ in rows]), None, InputSpec())


def test_split_values_other_than_train_and_test_are_named(tiny_images):
    rows = real_rows(tiny_images)
    path = tiny_images / "split.csv"
    path.write_text("path,label,split\n" + "".join(f"{p},{label},TRAINING\n" for p, label in rows))
    samples = load_labelled(path, None, InputSpec())
    assert [note.reason for note in samples.notes] == [
        "split column: 'TRAINING' in 48 rows is neither train nor test; those rows are neither trained on nor tested"]
    with pytest.raises(UserError, match="the split column marks 0 of 48 rows train and 0 test"):
        few_shot_split(samples.labels, 5, seed=0, splits=samples.splits)

    splits = ["Train", "test", "val", ""] * 12
    path.write_text("path,label,split\n" + "".join(f"{p},{label},{s}\n" for (p, label), s in zip(rows, splits)))
    samples = load_labelled(path, None, InputSpec())
    assert [note.reason for note in samples.notes] == [
        "split column: 'val' in 12 rows and an empty cell in 12 rows are neither train nor test; those rows are "
        "neither trained on nor tested"]
    train, test = few_shot_split(samples.labels, 2, seed=0, splits=samples.splits)
    assert len(test) == 12 and all(samples.splits[i] == "train" for i in train)

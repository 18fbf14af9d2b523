import os

import pytest

from sslstudio.core.data.scan import scan_folder, summarise
from sslstudio.core.errors import UserError
from sslstudio.core.progress import Control


def touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_detects_modalities_labels_and_ignores_hidden_and_unknown(tmp_path):
    touch(tmp_path / "cats" / "a.PNG")
    touch(tmp_path / "dogs" / "b.jpeg")
    touch(tmp_path / "dogs" / "deeper" / "c.webp")
    touch(tmp_path / "dogs" / ".hidden.png")
    touch(tmp_path / ".git" / "x.png")
    touch(tmp_path / "notes.pdf")
    scan = scan_folder(tmp_path)
    assert scan.files["image"] == ["cats/a.PNG", "dogs/b.jpeg", "dogs/deeper/c.webp"]
    assert scan.ignored == 1
    assert scan.choose_modality() == "image"
    assert scan.labels_of("image") == ["cats", "dogs", "dogs"]
    assert scan.looks_labelled("image")


def test_mixed_folder_reports_counts_and_asks_for_a_choice(tmp_path):
    touch(tmp_path / "a.png")
    touch(tmp_path / "b.wav")
    touch(tmp_path / "c.txt")
    touch(tmp_path / "d.jsonl")
    scan = scan_folder(tmp_path)
    assert scan.counts() == {"image": 1, "audio": 1, "text": 2}
    with pytest.raises(UserError, match="mixes modalities"):
        scan.choose_modality()
    assert scan.choose_modality("text") == "text"
    with pytest.raises(UserError, match="unknown modality"):
        scan.choose_modality("video")


def test_the_main_modality_is_the_one_with_the_most_files(tmp_path):
    for name in ("a.png", "b.png", "c.wav", "d.txt"):
        touch(tmp_path / name)
    assert scan_folder(tmp_path).main_modality() == "image"
    (tmp_path / "no-data").mkdir()
    assert scan_folder(tmp_path / "no-data").main_modality() is None


def test_empty_files_are_reported_by_the_scan_whatever_their_modality(tmp_path):
    touch(tmp_path / "good.png")
    touch(tmp_path / "empty.png", b"")
    touch(tmp_path / "sub" / "silent.wav", b"")
    scan = scan_folder(tmp_path)
    assert scan.files["image"] == ["good.png"] and scan.counts() == {"image": 1}
    assert [(b.path, b.reason) for b in scan.bad] == [("empty.png", "empty file"), ("sub/silent.wav", "empty file")]
    with pytest.raises(UserError, match="no usable audio files.*sub/silent.wav: empty file"):
        scan.choose_modality("audio")


def test_symlink_cycle_is_followed_once(tmp_path):
    touch(tmp_path / "data" / "a.png")
    os.symlink(tmp_path / "data", tmp_path / "data" / "loop")
    os.symlink(tmp_path / "data", tmp_path / "alias")
    scan = scan_folder(tmp_path)
    assert len(scan.files["image"]) == 1


def test_broken_symlink_is_reported(tmp_path):
    touch(tmp_path / "good.png")
    os.symlink(tmp_path / "missing.png", tmp_path / "dangling.png")
    scan = scan_folder(tmp_path)
    assert scan.files["image"] == ["good.png"]
    assert [(b.path, "broken symbolic link" in b.reason) for b in scan.bad] == [("dangling.png", True)]


def test_missing_folder_and_file_given_as_folder(tmp_path):
    with pytest.raises(UserError, match="folder not found"):
        scan_folder(tmp_path / "nope")
    touch(tmp_path / "f.png")
    with pytest.raises(UserError, match="not a folder"):
        scan_folder(tmp_path / "f.png")


def test_empty_folder_has_nothing_to_choose(tmp_path):
    with pytest.raises(UserError, match="no image, audio or text"):
        scan_folder(tmp_path).choose_modality()


def test_summary_is_json_ready(tmp_path):
    touch(tmp_path / "x" / "1.txt")
    touch(tmp_path / "y" / "2.txt")
    summary = summarise(scan_folder(tmp_path))
    assert summary["counts"] == {"text": 2}
    assert summary["labels"] == {"text": {"x": 1, "y": 1}}


def test_progress_counts_up_and_can_stop_the_scan(tmp_path):
    from sslstudio.core.errors import Cancelled

    for folder in range(5):
        (tmp_path / f"c{folder}").mkdir()
        for i in range(3):
            (tmp_path / f"c{folder}" / f"{i}.png").write_bytes(b"x")
    seen = []
    scan_folder(tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert seen == sorted(seen) and seen[-1] == (15, 0)  # the total is unknown while scanning
    control = Control()

    def stop_at_six(done, total):
        if done >= 6:
            control.cancel()
        control(done, total)
    with pytest.raises(Cancelled):
        scan_folder(tmp_path, progress=stop_at_six)

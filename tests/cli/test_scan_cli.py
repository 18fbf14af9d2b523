"""`sslstudio scan` on a real folder with strays: it checks the main modality, says so and how to pick another,
and reports empty and corrupt files with their reasons."""
import json

from .test_end_to_end import cli


def with_strays(folder):
    (folder / "README.txt").write_text("how these pictures were taken")
    (folder / "0_t-shirt_top" / "empty.png").write_bytes(b"")
    (folder / "0_t-shirt_top" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (folder / "take.wav").write_bytes(b"")
    return folder


def test_a_mixed_folder_checks_its_main_modality_and_reports_empty_files(tiny_images):
    folder = with_strays(tiny_images)
    printed = cli("scan", folder).stdout
    assert "49 image files, 1 text files" in printed  # the empty picture is not counted, the corrupt one is
    assert "usable image samples: 48" in printed
    assert "mixed folder: checked its image files, the most; --modality text checks the others" in printed
    assert "skipped 0_t-shirt_top/empty.png: empty file" in printed
    assert "skipped take.wav: empty file" in printed  # an empty file is reported whatever its modality
    assert "skipped 0_t-shirt_top/corrupt.png:" in printed

    report = json.loads(cli("scan", folder, "--json").stdout)
    assert report["modality"] == "image" and report["usable_samples"] == 48
    reasons = {bad["path"]: bad["reason"] for bad in report["bad_files"]}
    assert reasons["0_t-shirt_top/empty.png"] == "empty file" and reasons["take.wav"] == "empty file"
    assert "0_t-shirt_top/corrupt.png" in reasons


def test_another_modality_is_one_option_away(tiny_images):
    folder = with_strays(tiny_images)
    report = json.loads(cli("scan", folder, "--modality", "text", "--json").stdout)
    assert report["modality"] == "text" and report["usable_samples"] == 1

#!/usr/bin/env python3
"""Rebuild the bundled demo data from the outputs of the project's data-set recipes.

    python resources/demo/make_demo_data.py FASHION_OUT SPOKEN_OUT FORTUNES_OUT EMOJI_OUT

Each *_OUT is the folder a recipe wrote (fashion_mnist_debian.py,
spoken_digits_espeak.py --speakers 60, fortunes_categories.py,
emoji_categories.py --styles google --max-per-class 20). Picks a fixed,
seeded subset from each recipe's train split; audio is re-encoded as FLAC
(lossless, about half the size of WAV).
"""
import csv
import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PER_CLASS = {"image": 100, "audio": 15, "text": 60, "emoji": 20}
TEXT_CLASSES = ("computers", "food", "law", "medicine", "sports")


def rows_of(out: Path) -> list[dict]:
    with open(out / "manifest.csv", newline="") as f:
        return [r for r in csv.DictReader(f) if r["split"] == "train"]


def pick(rows: list[dict], per_class: int, classes=None) -> list[dict]:
    by_class: dict[str, list[dict]] = {}
    for r in rows:
        if classes is None or r["label"] in classes:
            by_class.setdefault(r["label"], []).append(r)
    rng = random.Random(0)
    chosen = []
    for label in sorted(by_class):
        group = sorted(by_class[label], key=lambda r: r["labelled_path"])
        rng.shuffle(group)
        chosen += group[:per_class]
    return chosen


def main(fashion: Path, spoken: Path, fortunes: Path, emoji: Path) -> None:
    import soundfile

    for modality in PER_CLASS:
        shutil.rmtree(HERE / modality, ignore_errors=True)
    for r in pick(rows_of(fashion), PER_CLASS["image"]):
        dest = HERE / "image" / r["label"] / Path(r["labelled_path"]).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fashion / r["labelled_path"], dest)
    for r in pick(rows_of(spoken), PER_CLASS["audio"]):
        dest = HERE / "audio" / r["label"] / (Path(r["labelled_path"]).stem + ".flac")
        dest.parent.mkdir(parents=True, exist_ok=True)
        wave, rate = soundfile.read(spoken / r["labelled_path"], dtype="int16")
        soundfile.write(dest, wave, rate, format="FLAC", subtype="PCM_16")
    for r in pick(rows_of(fortunes), PER_CLASS["text"], TEXT_CLASSES):
        dest = HERE / "text" / r["label"] / Path(r["labelled_path"]).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fortunes / r["labelled_path"], dest)
    with open(emoji / "manifest.csv", newline="") as f:
        emoji_rows = list(csv.DictReader(f))  # colour images: every split, the set is small already
    for r in pick(emoji_rows, PER_CLASS["emoji"]):
        dest = HERE / "emoji" / r["label"] / Path(r["labelled_path"]).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(emoji / r["labelled_path"], dest)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*(Path(a) for a in sys.argv[1:]))

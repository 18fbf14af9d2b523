"""Helpers shared by the bench scripts: repo import path, the JSON result line, data-set builds."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATASETS = Path(os.environ.get("SSLSTUDIO_DATASETS", REPO.parent / "shared" / "datasets"))
CACHE = Path(os.environ.get("SSLSTUDIO_BENCH_DATA", REPO / "bench" / "out" / "data"))


def report(name: str, target: str, met: bool, **figures) -> None:
    """The one JSON line every bench ends with."""
    print(json.dumps({"bench": name, **figures, "target": target, "met": bool(met)}))


def recipe(name: str, *args: str) -> Path:
    """Build (once) a data set with one of the shared recipes; return its output folder."""
    out = CACHE / name
    script = DATASETS / f"{name}.py"
    if not script.is_file() and (out / "manifest.csv").is_file():
        return out  # a machine with the cached build but without the recipes (the GPU box)
    if not script.is_file():
        sys.exit(f"recipe {script} not found; set SSLSTUDIO_DATASETS to the shared datasets folder")
    subprocess.run([sys.executable, str(script), str(out), *args], check=True, stdout=sys.stderr)
    return out


def fashion_subset(per_class: int) -> Path:
    """FOLDER/<class>/*.png with `per_class` training images per class (hard links)."""
    import csv

    out = CACHE / f"fashion_{per_class}"
    if (out / ".complete").exists():
        return out
    full = recipe("fashion_mnist_debian")
    rows = [r for r in csv.DictReader(open(full / "manifest.csv")) if r["split"] == "train"]
    taken: dict[str, int] = {}
    for r in rows:
        if taken.get(r["label"], 0) >= per_class:
            continue
        taken[r["label"]] = taken.get(r["label"], 0) + 1
        dest = out / r["label"] / Path(r["labelled_path"]).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            os.link(full / r["labelled_path"], dest)
    (out / ".complete").touch()
    return out

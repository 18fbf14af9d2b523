"""Where the bundled resources (demo data, icons) live, in a checkout or an installed package."""
from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data beside the executable
    candidates = [Path(frozen) / "resources"] if frozen else []
    candidates += [Path(__file__).resolve().parent.parent / "resources",
                   Path(__file__).resolve().parent / "_resources"]
    for candidate in candidates:
        if (candidate / "demo").is_dir():
            return candidate
    raise FileNotFoundError("sslstudio's bundled resources are missing from this installation")


def demo_folder(modality: str) -> Path:
    return resources_dir() / "demo" / modality

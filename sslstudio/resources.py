"""Where the bundled resources (demo data, icons) live, in a checkout or an installed package."""
from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The top-level resources/ folder of a checkout or editable install."""
    candidate = Path(__file__).resolve().parent.parent / "resources"
    if not (candidate / "demo").is_dir():
        raise FileNotFoundError(f"sslstudio's bundled resources are missing (looked in {candidate})")
    return candidate


def demo_folder(modality: str) -> Path:
    return resources_dir() / "demo" / modality


def icon_path() -> Path:
    return resources_dir() / "icons" / "sslstudio.svg"

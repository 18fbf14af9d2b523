"""Where the bundled resources (demo data, icons) live, in a checkout or an installed package."""
from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The top-level resources/ folder of a checkout or editable install, else the copy that the
    wheel carries as sslstudio/bundled (see pyproject.toml)."""
    here = Path(__file__).resolve().parent
    candidates = (here.parent / "resources", here / "bundled")
    for candidate in candidates:
        if (candidate / "demo").is_dir():
            return candidate
    raise FileNotFoundError("sslstudio's bundled resources are missing (looked in "
                            + " and ".join(str(c) for c in candidates) + ")")


def demo_folder(modality: str) -> Path:
    return resources_dir() / "demo" / modality


def icon_path() -> Path:
    return resources_dir() / "icons" / "sslstudio.svg"

"""sslstudio's version, read from `sslstudio/__init__.py` without importing the package: the one place it is
written (pyproject.toml takes it from there too)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def version() -> str:
    return re.search(r'__version__ = "([^"]+)"', (ROOT / "sslstudio" / "__init__.py").read_text()).group(1)

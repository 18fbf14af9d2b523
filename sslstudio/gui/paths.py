"""Paths as a user reads them: the home folder shortened to ~."""
from __future__ import annotations

import html
import os
from pathlib import Path


def display_path(path: str | os.PathLike) -> str:
    text = str(path)
    home = os.path.expanduser("~")
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        text = "~" + text[len(home):]
    return text


def display_path_html(path: str | os.PathLike) -> str:
    return html.escape(display_path(Path(path)))

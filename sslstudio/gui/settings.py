"""Per-user settings through QSettings: recent projects and folders, window geometry, first run."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

RECENT_LIMIT = 10


def settings() -> QSettings:
    return QSettings("sslstudio", "sslstudio")


def recent(kind: str) -> list[str]:
    value = settings().value(f"recent/{kind}", [])
    items = [value] if isinstance(value, str) else list(value or [])
    return [item for item in items if Path(item).exists()]


def remember(kind: str, path: str | Path) -> None:
    path = str(Path(path).resolve())
    items = [path] + [item for item in recent(kind) if item != path]
    settings().setValue(f"recent/{kind}", items[:RECENT_LIMIT])


def first_run() -> bool:
    return not settings().value("seen_first_run", False, type=bool)


def mark_first_run_done() -> None:
    settings().setValue("seen_first_run", True)


THEMES = ("system", "light", "dark")


def theme() -> str:
    """The chosen look: the system's scheme, or light or dark whatever the system says."""
    value = str(settings().value("theme", "system"))
    return value if value in THEMES else "system"


def set_theme(name: str) -> None:
    settings().setValue("theme", name)

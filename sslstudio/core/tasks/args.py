"""A task's settings are one `Settings` group (core/settings.py): each field declared once with its
help text and range drives `--set KEY=VALUE`, `sslstudio tasks --json` and the GUI's generated form."""
from __future__ import annotations

import dataclasses

from sslstudio.core.settings import Settings, setting

__all__ = ["TaskArgs", "setting"]


@dataclasses.dataclass(frozen=True)
class TaskArgs(Settings):
    """Base for every task's settings; subclasses add fields with `setting()`."""

"""The GUI's part of `sslstudio --self-test`: the workbench opens a window and closes cleanly.

It runs on whatever Qt platform the environment names (offscreen when there is no
display), so a frozen app that lacks a Qt plugin fails here, not on a user's desk.
"""
from __future__ import annotations

import os
import time


def open_and_close_window() -> str:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    from PySide6.QtCore import QEventLoop

    from sslstudio.gui.app import create_application  # after QT_QPA_PLATFORM is chosen above
    from sslstudio.gui.main_window import MainWindow  # likewise

    app = create_application([])
    window = MainWindow()
    window.show()
    deadline = time.perf_counter() + 20
    while not window.windowHandle().isExposed() and time.perf_counter() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    shown = time.perf_counter() - started
    exposed = window.windowHandle().isExposed()
    window.state.dirty = False
    window.close()
    app.processEvents()
    if not exposed:
        raise AssertionError(f"the main window was not shown within 20 s on the {app.platformName()} platform")
    return f"window shown in {shown:.2f} s on the {app.platformName()} platform"

"""Starting the workbench: the QApplication, its look, the exception dialog, the window.

torch is not imported here: the window shows first, then a background job
imports torch to describe the device (launch to window stays under a second).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "sslstudio"


GUI_SWITCH_INTERVAL_S = 0.001


def create_application(argv: list[str] | None = None):
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from sslstudio.resources import icon_path  # with Qt, loaded when the app is made

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName("sslstudio")
    app.setDesktopFileName("sslstudio")
    app.setStyle("Fusion")  # follows the system's light or dark scheme on every platform
    app.setWindowIcon(QIcon(str(icon_path())))
    from sslstudio.gui import settings  # with Qt, as the app is made: app.py itself stays Qt-free

    apply_theme(os.environ.get("SSLSTUDIO_THEME") or settings.theme())
    # Every paint calls back into Python, and each callback must take the GIL from whichever
    # worker thread (thumbnails, training) holds it. At the default 5 ms switch interval a busy
    # worker made a grid repaint 8x slower; at 1 ms, 2 to 3 times faster than that.
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    return app


def apply_theme(name: str) -> None:
    """Light or dark whatever the system says, or ("system") the system's scheme. Qt's own schemes, so
    Fusion draws every widget to match; a platform without a scheme setting (X11 without a desktop, the
    offscreen one) gets Fusion's dark palette by hand."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QPalette
    from PySide6.QtWidgets import QApplication

    scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(name, Qt.ColorScheme.Unknown)
    QGuiApplication.styleHints().setColorScheme(scheme)
    app = QApplication.instance()
    palette = app.style().standardPalette()
    if name == "dark" and palette.color(QPalette.ColorRole.Window).lightness() > 128:
        palette = _dark_palette()
    app.setPalette(palette)


def _dark_palette():
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in ((roles.Window, "#2d2d2d"), (roles.WindowText, "#e8e8e8"), (roles.Base, "#1e1e1e"),
                         (roles.AlternateBase, "#262626"), (roles.Text, "#e8e8e8"), (roles.Button, "#353535"),
                         (roles.ButtonText, "#e8e8e8"), (roles.ToolTipBase, "#2d2d2d"),
                         (roles.ToolTipText, "#e8e8e8"), (roles.PlaceholderText, "#9a9a9a"),
                         (roles.Highlight, "#2f65ca"), (roles.HighlightedText, "#ffffff"),
                         (roles.Link, "#6ea8ff"), (roles.BrightText, "#ff6060"), (roles.Light, "#505050"),
                         (roles.Midlight, "#404040"), (roles.Mid, "#2a2a2a"), (roles.Dark, "#1a1a1a"),
                         (roles.Shadow, "#000000")):
        palette.setColor(role, QColor(colour))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def run_gui(target: str | None = None, first_run_demo: bool = True,
            present: tuple[str, float] | None = None) -> int:
    """Open the workbench on `target` (a folder or project file), else the last state or the demo data;
    with `present` (a run and the replay's seconds), in presenter mode replaying that run."""
    app = create_application()
    from sslstudio.gui.errors import ExceptionHook  # this module stays light: Qt and the window's modules
    from sslstudio.gui.main_window import MainWindow  # load when the app starts, not when it is imported

    window = MainWindow()
    hook = ExceptionHook(lambda: window)
    hook.install()
    window.show()
    window.open_initial(Path(target) if target and not present else None, first_run_demo and not present)
    if present:
        window.present(Path(present[0]), present[1])
    if os.environ.get("SSLSTUDIO_QUIT_WHEN_SHOWN"):
        _quit_when_shown(app, window)
    try:
        return app.exec()
    finally:
        hook.uninstall()
        tear_down(window)


def _quit_when_shown(app, window) -> None:
    """Say when the window is on screen, then quit without asking to save: how the installer build
    times launch -> window on the packaged app, and checks that it closes cleanly."""
    from PySide6.QtCore import QTimer

    def check() -> None:
        if window.windowHandle() is not None and window.windowHandle().isExposed():
            poll.stop()
            print(f"sslstudio: window shown on the {app.platformName()} platform", flush=True)
            window.state.dirty = False  # nothing to save: the demo folder was opened by the launch itself
            app.quit()

    poll = QTimer(window, interval=10, timeout=check)
    poll.start()


def tear_down(widget) -> None:
    """Delete the top widget and everything it posted for deletion while the QApplication still lives.

    Left to the interpreter's exit, Python frees Qt objects in no particular
    order, and PySide6 has crashed there (with pyqtgraph especially).
    """
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def run_alone(build) -> int:
    """Show one panel on its own for a manual look (Orange's WidgetPreview idea).

    `build` returns the widget and, optionally, a cleanup callable. With
    SSLSTUDIO_QUIT_AFTER_MS set, the window closes itself (the tests use it).
    """
    from PySide6.QtCore import QTimer

    app = create_application()
    built = build()
    widget, cleanup = built if isinstance(built, tuple) else (built, None)
    widget.show()
    quit_after = os.environ.get("SSLSTUDIO_QUIT_AFTER_MS")
    if quit_after:
        QTimer.singleShot(int(quit_after), app.quit)
    code = app.exec()
    if cleanup is not None:
        cleanup()
    tear_down(widget)
    return code

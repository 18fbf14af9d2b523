"""Waiting for the workbench in the screenshot scripts: run Qt's event loop until a signal, a condition or a
time limit, as a user would wait."""
from PySide6.QtCore import QEventLoop, QTimer


def wait(ms: int = 0, signal=None, until=None, limit_ms: int = 120_000) -> None:
    loop = QEventLoop()
    if signal is not None:
        signal.connect(loop.quit)
    if until is not None:
        poll = QTimer(interval=100, timeout=lambda: until() and loop.quit())
        poll.start()
    QTimer.singleShot(ms or limit_ms, loop.quit)
    loop.exec()

"""Start, Pause/Resume and Stop for a training run, enabled as the run's state allows."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget


class RunButtons(QWidget):
    sig_start = Signal()
    sig_pause = Signal()
    """Pause, or Resume when paused."""
    sig_stop = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.start_button = QPushButton("Start", toolTip="Start a new run with these settings (Ctrl+Return)")
        self.start_button.setShortcut("Ctrl+Return")
        self.pause_button = QPushButton("Pause", toolTip="Pause between two steps; Resume continues exactly where "
                                                         "it stopped")
        self.stop_button = QPushButton("Stop", toolTip="Stop after the current step and save a checkpoint")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for button, signal in ((self.start_button, self.sig_start), (self.pause_button, self.sig_pause),
                               (self.stop_button, self.sig_stop)):
            button.clicked.connect(signal)
            layout.addWidget(button)

    def show_state(self, ready: bool, running: bool, paused: bool) -> None:
        self.start_button.setEnabled(ready and not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Resume" if running and paused else "Pause")

"""The line above a preview: what it shows, the seed of its random draw and a button for a new draw."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget


class PreviewBar(QWidget):
    sig_seed_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.status = QLabel("Open a folder on the Data step to preview a task.", wordWrap=True)  # any width
        self.seed = QSpinBox(toolTip="The preview's random draw: which samples, and the task's random choices")
        self.seed.setRange(0, 1_000_000)
        self.seed.valueChanged.connect(self.sig_seed_changed)
        self.new_button = QPushButton("New samples", toolTip="Draw other samples and other random choices (Ctrl+R)")
        self.new_button.setShortcut("Ctrl+R")
        self.new_button.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status, 1)
        for widget in (QLabel("seed"), self.seed, self.new_button):
            layout.addWidget(widget)

    def say(self, text: str) -> None:
        self.status.setText(text)

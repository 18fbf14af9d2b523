"""A step that is not usable yet: says what it will do and what it waits for. No fake controls."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class LaterPanel(QWidget):
    def __init__(self, title: str, purpose: str, needs: str, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 40, 48, 40)
        heading = QLabel(title)
        heading.setStyleSheet("font-size: 18pt; font-weight: 600;")
        body = QLabel(purpose)
        body.setWordWrap(True)
        body.setStyleSheet("font-size: 11pt;")
        self.needs = QLabel(needs)
        self.needs.setWordWrap(True)
        self.needs.setStyleSheet("font-size: 11pt; color: palette(mid);")
        for widget in (heading, body, self.needs):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignTop)
        layout.addStretch(1)


if __name__ == "__main__":  # a manual look: python -m sslstudio.gui.panels.later_panel
    from sslstudio.gui.app import run_alone

    run_alone(lambda: LaterPanel("Embeddings", "What this step will do.", "What it needs first."))

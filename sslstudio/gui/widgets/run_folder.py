"""Where the shown run lives on disk, with Open folder and Copy path: how a user takes a run to the CLI
(`sslstudio embed RUN …`) or to a file manager."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from sslstudio.gui.paths import display_path


class ElidedLabel(QLabel):
    """One line that drops the middle of a text too long for it (a path's start and its name stay)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, max(self.width(), 40)))


class RunFolder(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.path: Path | None = None
        self.label = ElidedLabel()
        self.open_button = QPushButton("Open folder", toolTip="Show the run's folder in the file manager")
        self.open_button.clicked.connect(self.open_folder)
        self.copy_button = QPushButton("Copy path", toolTip="Copy the run folder's path, for the command line "
                                                            "(sslstudio embed RUN …, probe RUN …)")
        self.copy_button.clicked.connect(self.copy_path)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.open_button)
        layout.addWidget(self.copy_button)
        self.show_run(None)

    def show_run(self, run: str | Path | None) -> None:
        self.path = Path(run).resolve() if run else None
        self.label.set_full_text(f"run folder: {display_path(self.path)}" if self.path else
                                 "run folder: pick a run, or start one")
        for button in (self.open_button, self.copy_button):
            button.setEnabled(self.path is not None)

    @Slot()
    def open_folder(self) -> bool:
        return self.path is not None and QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path)))

    @Slot()
    def copy_path(self) -> None:
        if self.path is not None:
            QApplication.clipboard().setText(str(self.path))

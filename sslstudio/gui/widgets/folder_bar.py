"""The Data page's top line: Open folder…, what the folder holds, which of its modalities to work on, and the
progress of scanning and checking it with a Cancel button. Self-contained: the page writes the line and the
progress; the choices go out as signals."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

NO_FOLDER = "No folder yet: open one, or drop it on this window."


class FolderBar(QWidget):
    sig_open = Signal()
    sig_cancel = Signal()
    sig_modality_chosen = Signal(str)
    """The user chose another of the folder's modalities."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.open_button = QPushButton("Open folder…", toolTip="Choose a folder of images, audio or text "
                                                              "(Ctrl+Shift+O); you can also drop a folder on "
                                                              "the window")
        self.open_button.clicked.connect(self.sig_open)
        self.folder_label = QLabel(NO_FOLDER, wordWrap=True)  # a long path wraps, never widens the window
        self.modality_box = QComboBox(toolTip="This folder holds more than one kind of data; choose the one to "
                                              "work on")
        self.modality_box.currentIndexChanged.connect(self._on_modality_chosen)
        self.progress = QProgressBar(maximumWidth=240)
        self.cancel_button = QPushButton("Cancel", toolTip="Stop scanning this folder")
        self.cancel_button.clicked.connect(self.sig_cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.open_button)
        layout.addWidget(self.folder_label, 1)
        for widget in (self.modality_box, self.progress, self.cancel_button):
            layout.addWidget(widget)
            widget.hide()

    def say(self, text: str) -> None:
        self.folder_label.setText(text)

    def text(self) -> str:
        return self.folder_label.text()

    def show_modalities(self, counts: dict[str, int], chosen: str) -> None:
        """List the folder's modalities with their file counts (shown only when there is a choice)."""
        self.modality_box.blockSignals(True)  # filling the box is not the user choosing
        self.modality_box.clear()
        for modality, n in counts.items():
            self.modality_box.addItem(f"{modality} ({n})", modality)
        self.modality_box.setCurrentIndex(list(counts).index(chosen))
        self.modality_box.blockSignals(False)
        self.modality_box.setVisible(len(counts) > 1)

    def _on_modality_chosen(self, index: int) -> None:
        if index >= 0:
            self.sig_modality_chosen.emit(self.modality_box.itemData(index))

    def show_progress(self, total: int, text: str) -> None:
        """Show the bar with Cancel: `total` steps (0: busy without a count), `text` its format."""
        self.progress.setRange(0, total)
        self.progress.setFormat(text)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()

    def step(self, done: int, total: int | None = None) -> None:
        if total:
            self.progress.setRange(0, total)
        self.progress.setValue(done)

    def hide_progress(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def clear(self) -> None:
        self.modality_box.hide()
        self.say(NO_FOLDER)

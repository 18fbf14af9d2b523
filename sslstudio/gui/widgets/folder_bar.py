"""The Data page's top line: Open folder…, what the folder holds, which of its modalities to work on, and the
progress of scanning and checking it with a Cancel button. Self-contained: the page writes the line and the
progress; the choices go out as signals."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from sslstudio.core.progress import duration

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
        self.progress = QProgressBar(minimumWidth=280, maximumWidth=360)
        self._counting: tuple[str, float] | None = None  # (what is done, when it began) for a counted job
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
        self._counting = None
        self.progress.setRange(0, total)
        self.progress.setFormat(text)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()

    def show_count(self, total: int, doing: str) -> None:
        """Show the bar with Cancel for `total` items: "`doing` N of M, ETA m:ss" as they are done."""
        self.show_progress(total, "")
        self._counting = (doing, time.monotonic())
        self.step(0, total)

    def step(self, done: int, total: int | None = None) -> None:
        if total:
            self.progress.setRange(0, total)
        self.progress.setValue(done)
        if self._counting is not None:
            self._say_count(done, self.progress.maximum())

    def _say_count(self, done: int, total: int) -> None:
        doing, started = self._counting
        text = f"{doing} {done:,} of {total:,}"
        elapsed = time.monotonic() - started
        if 0 < done < total and elapsed >= 1.0:  # a rate from less than a second is a guess
            text += f", ETA {duration((total - done) * elapsed / done)}"
        room = self.progress.contentsRect().width() - 8  # one line, never wrapped or clipped: elided
        shown = self.progress.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, max(room, 40))
        self.progress.setFormat(shown.replace("%", "%%"))
        self.progress.setToolTip(text)

    def hide_progress(self) -> None:
        self._counting = None
        self.progress.hide()
        self.cancel_button.hide()

    def clear(self) -> None:
        self.modality_box.hide()
        self.say(NO_FOLDER)

"""A strip of small samples (a picture, or a snippet for text), each remembering its row; and the
helpers that find and draw one sample of a decoded set. Used for the nearest neighbours, the
misclassified samples and the suggestions."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from sslstudio.core.data.sample_ids import file_of
from sslstudio.gui.widgets.thumbnails import THUMB, render_thumbnail

ICON = 72


def sample_file(samples, row: int) -> Path:
    """The file a sample came from: a text sample "notes.jsonl#12" is line 12 of notes.jsonl, an audio
    sample "talk.wav#t=30" the segment of talk.wav from 30 s (see `sample_ids`)."""
    return Path(samples.root) / file_of(samples.ids[row])


def sample_picture(samples, row: int, size: int = THUMB, ratio: float = 1.0) -> QPixmap:
    return QPixmap.fromImage(render_thumbnail(sample_file(samples, row), samples.modality, size, ratio))


def sample_snippet(samples, row: int, length: int) -> str:
    """A text sample's own words on one line (it may be one line of a bigger file)."""
    return " ".join(str(samples.item(row)).split())[:length]


class SampleGallery(QListWidget):
    sig_chosen = Signal(int)  # the row of the clicked sample

    def __init__(self, tip: str, parent: QWidget | None = None):
        super().__init__(parent, viewMode=QListWidget.ViewMode.IconMode, iconSize=QSize(ICON, ICON),
                         resizeMode=QListWidget.ResizeMode.Adjust, movement=QListWidget.Movement.Static)
        self.setToolTip(tip)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.itemClicked.connect(lambda item: self.sig_chosen.emit(self.row_of(item)))

    def _fit(self, modality: str) -> None:
        """Pictures in even columns (a long caption is elided, whole in the tooltip); text as a list."""
        if modality == "text":
            self.setViewMode(QListWidget.ViewMode.ListMode)
            self.setGridSize(QSize())
        else:
            self.setViewMode(QListWidget.ViewMode.IconMode)
            self.setGridSize(QSize(ICON + 40, ICON + 26))

    def add(self, samples, row: int, caption: str) -> QListWidgetItem:
        if self.count() == 0:
            self._fit(samples.modality)
        if samples.modality == "text":
            item = QListWidgetItem(f"{caption} · {sample_snippet(samples, row, 80)}…")  # the caption stays in view
        else:
            item = QListWidgetItem(QIcon(sample_picture(samples, row, ICON, self.devicePixelRatioF())), caption)
        item.setData(Qt.ItemDataRole.UserRole, row)
        item.setToolTip(f"{samples.ids[row]}\n{caption}")
        self.addItem(item)
        return item

    @staticmethod
    def row_of(item: QListWidgetItem) -> int:
        return item.data(Qt.ItemDataRole.UserRole)

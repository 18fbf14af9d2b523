"""One sample at a time: what is under the mouse, and the opened sample with its nearest neighbours.

The neighbours are the closest samples in the embedding space (cosine), not on the 2-D
map, so they show what the model thinks alike even where the projection tears apart. Each
shows its name (elided in the middle, so the file's own name stays; whole in the tooltip)
and how alike it is, with digits enough to tell neighbours apart.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from sslstudio.core.colour import VIRIDIS, spectrogram_rgb
from sslstudio.core.embeddings.neighbours import similarity_words
from sslstudio.gui.widgets.sample_gallery import SampleGallery, sample_file, sample_picture, sample_snippet
from sslstudio.gui.widgets.sample_viewer import SampleViewer, spectrogram_db
from sslstudio.gui.widgets.thumbnails import THUMB

NEIGHBOURS = 12
NEIGHBOUR_ICON = 56


class NeighbourGallery(SampleGallery):
    """The neighbours in a grid of narrow cells under their pictures: the name (elided in the middle), how
    alike, and the label, one line each; the cells grow with the type (presenter mode)."""

    COLUMNS = 3  # at least, side by side

    def __init__(self, tip: str, parent: QWidget | None = None):
        super().__init__(tip, parent)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setIconSize(QSize(NEIGHBOUR_ICON, NEIGHBOUR_ICON))
        self._fit("image")

    def _fit(self, modality: str) -> None:
        super()._fit(modality)
        if modality != "text":
            metrics = self.fontMetrics()
            cell = QSize(max(NEIGHBOUR_ICON + 30, metrics.horizontalAdvance("distance 0.00038") + 14),
                         NEIGHBOUR_ICON + 3 * metrics.lineSpacing() + 12)
            self.setGridSize(cell)
            self.setMinimumWidth(self.COLUMNS * cell.width() + self.verticalScrollBar().sizeHint().width()
                                 + 2 * self.frameWidth() + 4)


class SampleInspector(QWidget):
    sig_open = Signal(int)  # a neighbour was clicked: open it in turn

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.hover = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True, minimumHeight=THUMB + 30)
        self.hover.setToolTip("The sample under the mouse")
        self.viewer = SampleViewer()
        self.gallery = NeighbourGallery("Nearest neighbours of the opened sample, in the embedding space (cosine)")
        self.gallery.sig_chosen.connect(self.sig_open)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hover)
        layout.addWidget(self.viewer, 2)
        layout.addWidget(QLabel("Nearest neighbours"))
        layout.addWidget(self.gallery, 3)

    @staticmethod
    def _spectrogram(samples, row: int, height: int = 160) -> QPixmap:
        """The decoded clip's spectrogram, low frequencies at the bottom (what the model's log-mel sees)."""

        spec = spectrogram_db(np.asarray(samples.item(row), dtype=np.float32), samples.spec.sample_rate).T
        rgb = spectrogram_rgb(spec, None, (0, 0, 0), VIRIDIS)
        image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], 3 * rgb.shape[1], QImage.Format.Format_RGB888)
        return QPixmap.fromImage(image.scaled(2 * height, height))

    def show_hover(self, samples, row: int, labels) -> None:
        if row < 0:
            self.hover.clear()
            return
        caption = samples.ids[row] + (f"\n{labels[row]}" if labels[row] else "")
        if samples.modality == "text":  # a text sample may be one line of a bigger file: show its own words
            self.hover.setText(sample_snippet(samples, row, 300) + "\n\n" + caption)
        elif samples.modality == "audio":
            self.hover.setPixmap(self._spectrogram(samples, row))
            self.hover.setToolTip(caption)
        else:
            self.hover.setPixmap(sample_picture(samples, row, ratio=self.devicePixelRatioF()))
            self.hover.setToolTip(caption)

    def open(self, samples, row: int, labels, index) -> None:
        self.viewer.show_sample(sample_file(samples, row), samples.modality, labels[row] or None,
                                text=str(samples.item(row)) if samples.modality == "text" else None)
        self.gallery.clear()
        rows, similarity = index.query(row, NEIGHBOURS)
        for neighbour, alike in zip(rows.tolist(), similarity_words(similarity), strict=True):
            if samples.modality == "text":  # one line: how alike, the label, then the sample's own words
                self.gallery.add(samples, neighbour, " · ".join(filter(None, (alike, labels[neighbour]))))
            else:
                item = self.gallery.add(samples, neighbour, "\n".join((samples.ids[neighbour], alike,
                                                                        labels[neighbour])).rstrip())
                item.setToolTip(item.text())

    def shutdown(self) -> None:
        self.viewer.shutdown()

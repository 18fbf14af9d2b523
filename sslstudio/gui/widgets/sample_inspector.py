"""One sample at a time: what is under the mouse, and the opened sample with its nearest neighbours.

The neighbours are the closest samples in the embedding space (cosine), not on the 2-D
map, so they show what the model thinks alike even where the projection tears apart.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from sslstudio.core.colour import VIRIDIS, spectrogram_rgb
from sslstudio.gui.widgets.sample_gallery import SampleGallery, sample_file, sample_picture, sample_snippet
from sslstudio.gui.widgets.sample_viewer import SampleViewer, spectrogram_db
from sslstudio.gui.widgets.thumbnails import THUMB

NEIGHBOURS = 12


class SampleInspector(QWidget):
    sig_open = Signal(int)  # a neighbour was clicked: open it in turn

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.hover = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True, minimumHeight=THUMB + 30)
        self.hover.setToolTip("The sample under the mouse")
        self.viewer = SampleViewer()
        self.gallery = SampleGallery("Nearest neighbours of the opened sample, in the embedding space (cosine)")
        self.gallery.sig_chosen.connect(self.sig_open)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hover)
        layout.addWidget(self.viewer, 2)
        layout.addWidget(QLabel("Nearest neighbours"))
        layout.addWidget(self.gallery, 1)

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
        for neighbour, score in zip(rows.tolist(), similarity.tolist(), strict=True):
            label = f" {labels[neighbour]}" if labels[neighbour] else ""
            self.gallery.add(samples, neighbour, f"{score:.2f}{label}")

    def shutdown(self) -> None:
        self.viewer.shutdown()

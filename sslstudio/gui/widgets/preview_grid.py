"""Cards that show a task's preview: what the model sees, its target and, once trained, its output.

Each card is one sample; each item in it is an image, a spectrogram (hidden
bins tinted), a playable clip or a token strip (hidden tokens highlighted),
with the sampled parameters printed under it.
"""
from __future__ import annotations

import html
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from sslstudio.core.colour import VIRIDIS, spectrogram_rgb

VIEW_PX = 112
HIDDEN = (230, 60, 60)  # the tint of masked spectrogram cells


def to_pixmap(rgb: np.ndarray, target: int = VIEW_PX) -> QPixmap:
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    scale = max(1, target // max(height, width))
    if scale > 1:  # small inputs are enlarged by whole factors, unsmoothed, so pixels stay honest
        return QPixmap.fromImage(image.scaled(width * scale, height * scale, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.FastTransformation))
    return QPixmap.fromImage(image.scaled(target * 2, target, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))


def tokens_html(tokens: list[str], mask: np.ndarray | None) -> str:
    hidden = np.asarray(mask, dtype=bool) if mask is not None else np.zeros(len(tokens), dtype=bool)
    words = []
    for token, is_hidden in zip(tokens, hidden, strict=False):
        text = html.escape(token)
        if is_hidden:
            text = f"<span style='background:#f5c542;color:#000'>{text}</span>"
        words.append(text)
    return " ".join(words)


def format_params(params: dict) -> str:
    parts = []
    for key, value in params.items():
        if isinstance(value, float):
            value = f"{value:.3g}"
        elif isinstance(value, (tuple, list)):
            value = ", ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in value)
            value = f"({value})"
        parts.append(f"{key}={value}")
    return " · ".join(parts)


class _ClipButton(QPushButton):
    """Plays a preview clip: written once to a temp WAV, played with QtMultimedia."""

    player = None
    output = None

    def __init__(self, wave: np.ndarray, rate: int, folder: Path):
        super().__init__("▶ play")
        self.wave, self.rate, self.folder = wave, rate, folder
        self.setToolTip("Listen to exactly this clip")
        self.clicked.connect(self.play)

    @Slot()
    def play(self) -> None:
        import soundfile
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

        path = self.folder / f"clip-{id(self)}.wav"
        if not path.exists():
            peak = max(float(np.abs(self.wave).max()), 1e-6)
            soundfile.write(str(path), (self.wave / max(peak, 1.0)).astype(np.float32), self.rate)
        if _ClipButton.player is None:
            _ClipButton.player = QMediaPlayer()
            _ClipButton.output = QAudioOutput()
            _ClipButton.player.setAudioOutput(_ClipButton.output)
        _ClipButton.player.stop()
        _ClipButton.player.setSource(QUrl.fromLocalFile(str(path)))
        _ClipButton.player.play()


class PreviewGrid(QScrollArea):
    """Sample cards in as many columns as fit; each card lays its items side by side."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self._clips = tempfile.TemporaryDirectory(prefix="sslstudio-preview-")
        self.cards: list[QFrame] = []
        self._columns = 0
        self.show_samples([])

    def show_samples(self, samples, note: str = "", names: list[str] | None = None) -> None:
        self.cards = [self._card(sample, names[sample.sample_index] if names else None) for sample in samples]
        self._note = note or "The preview appears here."
        self._columns = 0
        self._lay_out()

    def _lay_out(self) -> None:
        width = max((card.sizeHint().width() for card in self.cards), default=1) + 8
        columns = max(1, self.viewport().width() // width)
        if columns == self._columns and self.widget() is not None:
            return
        self._columns = columns
        body = QWidget()
        grid = QGridLayout(body)
        grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        if not self.cards:
            grid.addWidget(QLabel(self._note), 0, 0)
        for n, card in enumerate(self.cards):
            grid.addWidget(card, n // columns, n % columns)
        grid.setRowStretch((len(self.cards) + columns - 1) // columns, 1)  # spare height below, not in the cards
        grid.setColumnStretch(columns, 1)
        self.setWidget(body)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.cards:
            self._lay_out()

    def _card(self, sample, name: str | None) -> QFrame:
        card = QFrame()
        card.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(card)
        heading = QLabel(f"<b>{html.escape(name or f'sample {sample.sample_index}')}</b>")
        heading.setToolTip(name or "")
        layout.addWidget(heading)
        row = QHBoxLayout()
        for item in sample.items:
            column = QVBoxLayout()
            title = QLabel(item.title)
            title.setTextFormat(Qt.TextFormat.PlainText)
            title.setWordWrap(True)
            title.setMaximumWidth(2 * VIEW_PX)
            column.addWidget(title)
            column.addWidget(self._item_widget(item))
            if item.params:
                params = QLabel(format_params(item.params))
                params.setWordWrap(True)
                params.setMaximumWidth(2 * VIEW_PX)
                params.setStyleSheet("color: gray; font-size: 8pt;")
                params.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                column.addWidget(params)
            column.addStretch(1)
            row.addLayout(column)
        layout.addLayout(row)
        return card

    def _item_widget(self, item) -> QWidget:
        if item.kind == "image":
            label = QLabel()
            label.setPixmap(to_pixmap(item.data))
            return label
        if item.kind == "spectrogram":
            label = QLabel()
            label.setPixmap(to_pixmap(spectrogram_rgb(item.data, item.mask, HIDDEN, VIRIDIS), VIEW_PX))
            label.setToolTip("log-mel spectrogram; red tint: hidden from the model")
            return label
        if item.kind == "audio":
            return _ClipButton(np.asarray(item.data, dtype=np.float32), int(item.params.get("sample_rate", 16000)),
                               Path(self._clips.name))
        label = QLabel(tokens_html(list(item.data), item.mask))
        label.setWordWrap(True)
        label.setMinimumWidth(2 * VIEW_PX)
        label.setTextFormat(Qt.TextFormat.RichText)
        return label

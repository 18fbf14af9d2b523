"""One sample at full size: an image, audio as waveform and spectrogram with play/stop, or text.

pyqtgraph and QtMultimedia load on the first audio sample, not at launch.
"""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QFontDatabase, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from sslstudio.gui.paths import display_path_html
from sslstudio.gui.widgets.training_plots import apply_plot_theme

AUDIO_VIEW_SECONDS = 60  # longer files are shown in part, and the viewer says so
TEXT_VIEW_BYTES = 200_000


def spectrogram_db(wave: np.ndarray, rate: int, n_fft: int = 512) -> np.ndarray:
    """(frames, n_fft // 2 + 1) log power, hop of 10 ms: enough to see speech and music."""
    hop = max(1, rate // 100)
    if len(wave) < n_fft:
        wave = np.pad(wave, (0, n_fft - len(wave)))
    frames = 1 + (len(wave) - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    power = np.abs(np.fft.rfft(wave[index] * np.hanning(n_fft), axis=1)) ** 2
    return 10 * np.log10(power + 1e-10)


class _ImagePage(QLabel):
    def __init__(self):
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.original = QPixmap()

    def show_file(self, path: Path) -> str:
        self.original = QPixmap(str(path))
        if self.original.isNull():
            self.setText("this image cannot be decoded")
            return "unreadable image"
        self._fit()
        return f"{self.original.width()} × {self.original.height()} px"

    def _fit(self) -> None:
        if self.original.isNull():
            return
        width, height = max(1, self.original.width()), max(1, self.original.height())
        scale = max(1, min(self.width() // width, self.height() // height))
        target = self.original.size() * scale if scale > 1 else self.original.size().scaled(
            self.size(), Qt.AspectRatioMode.KeepAspectRatio).boundedTo(self.original.size())
        # Small images are enlarged by whole factors without smoothing, so pixels stay sharp.
        self.setPixmap(self.original.scaled(target, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation if scale > 1
                                            else Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()


class _AudioPage(QWidget):
    def __init__(self):
        super().__init__()
        import pyqtgraph as pg


        apply_plot_theme()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plots = pg.GraphicsLayoutWidget()
        self.wave_plot = self.plots.addPlot(row=0, col=0, title="waveform")
        self.wave_curve = self.wave_plot.plot(pen=pg.mkPen("#3b82c4"))
        self.wave_curve.setDownsampling(auto=True, method="peak")
        self.wave_curve.setClipToView(True)
        self.wave_plot.setLabel("bottom", "time", units="s")
        self.spec_plot = self.plots.addPlot(row=1, col=0, title="spectrogram (dB)")
        self.spec_image = pg.ImageItem()
        self.spec_image.setColorMap(pg.colormap.get("viridis"))
        self.spec_plot.addItem(self.spec_image)
        self.spec_plot.setLabel("bottom", "time", units="s")
        self.spec_plot.setLabel("left", "frequency", units="Hz")
        self.spec_plot.setXLink(self.wave_plot)
        layout.addWidget(self.plots, 1)
        buttons = QHBoxLayout()
        self.play_button = QPushButton("▶ Play")
        self.play_button.setToolTip("Play this clip (Space)")
        self.play_button.setShortcut(Qt.Key.Key_Space)
        self.stop_button = QPushButton("■ Stop")
        self.play_button.clicked.connect(self.play)
        self.stop_button.clicked.connect(self.stop)
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.path: Path | None = None
        self.player = None

    def show_file(self, path: Path) -> str:
        import soundfile

        self.stop()
        self.path = path
        with soundfile.SoundFile(str(path)) as f:
            rate, total = f.samplerate, f.frames
            wave = f.read(min(total, rate * AUDIO_VIEW_SECONDS), dtype="float32", always_2d=True).mean(axis=1)
        seconds = np.arange(len(wave)) / rate
        self.wave_curve.setData(seconds, wave)
        spec = spectrogram_db(wave, rate)
        self.spec_image.setImage(spec, levels=(spec.max() - 80, spec.max()))
        self.spec_image.setRect(0, 0, len(wave) / rate, rate / 2)
        self.wave_plot.setXRange(0, max(len(wave), 1) / rate, padding=0.02)
        self.spec_plot.setYRange(0, rate / 2, padding=0)
        shown = "" if total <= len(wave) else f", first {AUDIO_VIEW_SECONDS} s shown"
        return f"{total / rate:.2f} s at {rate} Hz{shown}"

    @Slot()
    def play(self) -> None:
        if self.path is None:
            return
        if self.player is None:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

            self.player = QMediaPlayer(self)
            self.audio_output = QAudioOutput(self)
            self.player.setAudioOutput(self.audio_output)
        self.player.setSource(QUrl.fromLocalFile(str(self.path)))
        self.player.play()

    @Slot()
    def stop(self) -> None:
        if self.player is not None:
            self.player.stop()


class _TextPage(QPlainTextEdit):
    def __init__(self):
        super().__init__()
        self.setReadOnly(True)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))

    def show_file(self, path: Path) -> str:
        with open(path, "rb") as f:
            data = f.read(TEXT_VIEW_BYTES + 1)
        text = data[:TEXT_VIEW_BYTES].decode("utf-8", errors="replace")
        self.setPlainText(text + ("\n…" if len(data) > TEXT_VIEW_BYTES else ""))
        return f"{len(text.split())} words shown" + (" (start of the file)" if len(data) > TEXT_VIEW_BYTES else "")

    def show_text(self, text: str) -> str:
        self.setPlainText(text)
        return f"{len(text.split())} words"


class SampleViewer(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.title = QLabel("Click a sample to see it here.")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.pages: dict[str, QWidget] = {}

    def _page(self, modality: str):
        if modality not in self.pages:
            self.pages[modality] = {"image": _ImagePage, "audio": _AudioPage, "text": _TextPage}[modality]()
            self.stack.addWidget(self.pages[modality])
        return self.pages[modality]

    def show_sample(self, path: Path, modality: str, label: str | None = None, text: str | None = None) -> None:
        """Show a file, or with `text`, one text sample of it (a line of a .jsonl or a row of a .csv)."""
        page = self._page(modality)
        self.stack.setCurrentWidget(page)
        try:
            details = page.show_file(path) if text is None else page.show_text(text)
        except Exception as error:  # noqa: BLE001 - a broken file is shown as such, never a crash
            details = f"cannot be read: {type(error).__name__}: {error}"
        size = path.stat().st_size if path.exists() else 0
        self.title.setText(f"<b>{html.escape(path.name)}</b><br>{details} · {size / 1024:.1f} KB"
                           + (f" · label <b>{html.escape(label)}</b>" if label else "")
                           + f"<br><small>{display_path_html(path)}</small>")

    def shutdown(self) -> None:
        audio = self.pages.get("audio")
        if audio is not None:
            audio.stop()

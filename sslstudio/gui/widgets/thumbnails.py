"""A virtualised thumbnail grid: a list model whose pictures are drawn lazily, off the GUI thread.

The view asks only for the rows it shows. A missing thumbnail is queued on a
thread pool (QImage and QPainter on a QImage are safe off the GUI thread;
QPixmap is not) and cached in an LRU once drawn, so scrolling 70k files keeps
memory flat. When the view scrolls, queued requests for rows that went out of
sight are dropped and the newly visible rows ask again. The pool is Python's
ThreadPoolExecutor, and pictures come back through a queue that a GUI-thread
timer drains in batches, so a fast scroll costs one repaint per batch rather
than one signal per picture.
"""
from __future__ import annotations

import queue
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import QAbstractListModel, QEvent, QModelIndex, QObject, QRect, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QImage, QImageReader, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

THUMB = 96
TILE = QSize(THUMB + 18, THUMB + 30)
CACHE_PIXELS = 3000 * THUMB * THUMB  # 3000 tiles at 1x, fewer on HiDPI: about 110 MB at most
BADGE = QColor(200, 80, 20, 220)  # a label given in the app


def render_thumbnail(path: Path, modality: str, size: int = THUMB, ratio: float = 1.0) -> QImage:
    """A picture of one file, size x size logical pixels drawn at `ratio` device pixels each (sharp on
    HiDPI screens); unreadable files get a picture saying so."""
    try:
        if modality == "image":
            return _image_thumbnail(path, size, ratio)
        if modality == "audio":
            return _audio_thumbnail(path, size, ratio)
        return _text_thumbnail(path, size, ratio)
    except Exception as error:  # noqa: BLE001 - any decode failure becomes a visible tile, never a crash
        return _message_tile(f"unreadable\n{type(error).__name__}", size, ratio)


def _image_thumbnail(path: Path, size: int, ratio: float) -> QImage:
    pixels = round(size * ratio)
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    source = reader.size()
    if source.isValid() and (source.width() > pixels or source.height() > pixels):
        reader.setScaledSize(source.scaled(pixels, pixels, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return _message_tile(f"unreadable\n{reader.errorString()[:30]}", size, ratio)
    if image.width() < pixels // 2:  # tiny images (28 px Fashion-MNIST) are shown big and sharp
        image = image.scaled(pixels, pixels, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.FastTransformation)
    image.setDevicePixelRatio(ratio)
    return image


def _audio_thumbnail(path: Path, size: int, ratio: float) -> QImage:
    import soundfile

    with soundfile.SoundFile(str(path)) as f:
        frames = min(f.frames, f.samplerate * 10)  # the first 10 s is enough for a glance
        wave = f.read(frames, dtype="float32", always_2d=True).mean(axis=1)
    image = _blank(size, ratio)
    if len(wave) == 0:
        return _message_tile("empty audio", size, ratio)
    columns = np.array_split(wave, size)
    peak = max(float(np.abs(wave).max()), 1e-6)
    painter = QPainter(image)
    painter.setPen(QPen(QColor("#3b82c4"), 1))
    middle = size / 2
    for x, column in enumerate(columns):
        if len(column):
            high, low = float(column.max()) / peak, float(column.min()) / peak
            painter.drawLine(x, int(middle - high * (middle - 4)), x, int(middle - low * (middle - 4)))
    painter.end()
    return image


def _text_thumbnail(path: Path, size: int, ratio: float) -> QImage:
    with open(path, "rb") as f:
        snippet = f.read(400).decode("utf-8", errors="replace")
    image = _blank(size, ratio)
    painter = QPainter(image)
    font = QFont()
    font.setPixelSize(10)
    painter.setFont(font)
    painter.setPen(QColor("#303030"))
    painter.drawText(QRect(4, 4, size - 8, size - 8), Qt.TextFlag.TextWordWrap, " ".join(snippet.split()))
    painter.end()
    return image


def _blank(size: int, ratio: float) -> QImage:
    """A tile to paint on in logical pixels, stored at `ratio` device pixels each."""
    pixels = round(size * ratio)
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(QColor("#f4f4f4"))
    return image


def _message_tile(text: str, size: int, ratio: float = 1.0) -> QImage:
    image = _blank(size, ratio)
    painter = QPainter(image)
    painter.setPen(QColor("#b03030"))
    painter.drawText(QRect(2, 2, size - 4, size - 4), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
    painter.end()
    return image


class ThumbnailModel(QAbstractListModel):
    """Rows are files of one modality under a root folder; pictures arrive when drawn.

    A drained batch of pictures is announced once through `sig_pictures_arrived` rather than
    through dataChanged: a list-mode QListView answers every dataChanged by laying out all
    rows again, which at 70k rows called rowCount 70,000 times per batch.
    """

    sig_pictures_arrived = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.root = Path()
        self.modality = "image"
        self.relpaths: list[str] = []
        self.labels: list[str | None] = []
        self.app_labels: dict[str, str] = {}  # relative path -> class given in the app; wins over the folder's
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._pending: dict[int, Future] = {}
        self._wanted: dict[int, None] = {}  # rows asked for during the current paint, in order
        self._submit = QTimer(self, singleShot=True, interval=0, timeout=self._submit_wanted)
        self._generation = 0  # bumps on every reset, so late pictures of an old folder are ignored
        self.ratio = 1.0  # device pixels per logical pixel of the screen the grid is on
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sslstudio-thumbnails")
        # Pictures come back through a plain queue drained by a GUI-thread timer: no Qt signal is
        # emitted from the pool's Python threads.
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._drain = QTimer(self, interval=30, timeout=self._drain_results)
        self._placeholder = QPixmap(THUMB, THUMB)
        self._placeholder.fill(QColor("#e6e6e6"))

    def set_files(self, root: Path, modality: str, relpaths: list[str], labels: list[str | None]) -> None:
        self.beginResetModel()
        self.drop_queued()
        self._generation += 1
        self.root, self.modality, self.relpaths, self.labels = root, modality, relpaths, labels
        self._cache.clear()
        self._pending.clear()
        self.endResetModel()

    def set_device_pixel_ratio(self, ratio: float) -> None:
        """Redraw the pictures for a screen with `ratio` device pixels per logical pixel."""
        if ratio != self.ratio:
            self.ratio = ratio
            self.set_files(self.root, self.modality, self.relpaths, self.labels)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.relpaths)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = index.row()
        if not index.isValid() or row >= len(self.relpaths):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return Path(self.relpaths[row]).name
        if role == Qt.ItemDataRole.ToolTipRole:
            label, app_label = self.labels[row], self.app_labels.get(self.relpaths[row])
            return (self.relpaths[row] + (f"\nlabelled in the app: {app_label}" if app_label else "")
                    + (f"\nfolder label: {label}" if label else ""))
        if role == Qt.ItemDataRole.UserRole:
            return self.root / self.relpaths[row]
        return None

    def tile(self, row: int) -> tuple[QPixmap, str, str | None]:
        """What the grid paints for a row: its picture (a placeholder until drawn), its name and the
        class given in the app, if any."""
        relpath = self.relpaths[row]
        return self._picture(row), relpath.rsplit("/", 1)[-1], self.app_labels.get(relpath)

    def set_app_labels(self, labels: dict[str, str]) -> None:
        self.app_labels = dict(labels)
        self.sig_pictures_arrived.emit()  # a repaint, no new layout

    def label_of(self, row: int) -> str | None:
        """The sample's class: the one given in the app, else its folder's."""
        return self.app_labels.get(self.relpaths[row]) or self.labels[row]

    def _picture(self, row: int) -> QPixmap:
        cached = self._cache.get(row)
        if cached is not None:
            self._cache.move_to_end(row)
            return cached
        if row not in self._pending and row not in self._wanted:
            # Submitted after the paint that asked, not during it: a render thread working while
            # the view paints takes the GIL from under every Python call the paint makes.
            self._wanted[row] = None
            self._submit.start()
        return self._placeholder

    @Slot()
    def _submit_wanted(self) -> None:
        for row in self._wanted:
            self._pending[row] = self.pool.submit(self._render, self._generation, row, self.root / self.relpaths[row],
                                                  self.modality, self.ratio)
        self._wanted.clear()
        if self._pending and not self._drain.isActive():
            self._drain.start()

    def _render(self, generation: int, row: int, path: Path, modality: str, ratio: float) -> None:
        self._results.put((generation, row, render_thumbnail(path, modality, ratio=ratio)))

    def drop_queued(self) -> None:
        """Forget requests not started yet (the rows scrolled away); visible rows will ask again."""
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        self._wanted.clear()

    @Slot()
    def _drain_results(self) -> None:
        arrived = False
        while True:
            try:
                generation, row, image = self._results.get_nowait()
            except queue.Empty:
                break
            arrived |= self._store(generation, row, image)
        if not self._pending:
            self._drain.stop()
        if arrived:
            self.sig_pictures_arrived.emit()

    def _store(self, generation: int, row: int, image: QImage) -> bool:
        if generation != self._generation:
            return False
        self._pending.pop(row, None)
        self._cache[row] = QPixmap.fromImage(image)
        while len(self._cache) > CACHE_PIXELS // round(THUMB * self.ratio) ** 2:
            self._cache.popitem(last=False)
        return True

    def cached_count(self) -> int:
        return len(self._cache)

    def shutdown(self) -> None:
        self.drop_queued()
        self.pool.shutdown(wait=True, cancel_futures=True)


class _TileDelegate(QStyledItemDelegate):
    """Paints a tile directly: the picture, then its name, elided, underneath.

    The stock delegate asks the model for a dozen roles through C++ on every paint, and
    each of those is a Python call; asking the model once, in Python, halves a scroll step.
    """

    def __init__(self, model: ThumbnailModel, parent: QObject | None = None):
        super().__init__(parent)
        self.model = model

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        row = index.row()
        if row >= self.model.rowCount():
            return
        picture, name, app_label = self.model.tile(row)
        rect = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect.adjusted(2, 2, -2, -2), option.palette.highlight())
            painter.setPen(option.palette.highlightedText().color())
        else:
            painter.setPen(option.palette.text().color())
        width = round(picture.deviceIndependentSize().width())
        painter.drawPixmap(rect.x() + (rect.width() - width) // 2, rect.y() + 4, picture)
        if app_label:
            self._badge(painter, option, rect, app_label)
        text_rect = QRect(rect.x() + 3, rect.y() + THUMB + 6, rect.width() - 6, rect.height() - THUMB - 8)
        name = option.fontMetrics.elidedText(name, Qt.TextElideMode.ElideMiddle, text_rect.width())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, name)

    @staticmethod
    def _badge(painter: QPainter, option: QStyleOptionViewItem, rect: QRect, label: str) -> None:
        """The class given in the app, on the picture's top edge."""
        metrics = option.fontMetrics
        text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, rect.width() - 14)
        badge = QRect(rect.x() + 5, rect.y() + 6, metrics.horizontalAdvance(text) + 8, metrics.height() + 2)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BADGE)
        painter.drawRoundedRect(badge, 4, 4)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802 (Qt)
        return TILE


class ThumbnailGrid(QListView):
    """A wrapping grid of equal tiles, repainted (not re-laid out) when pictures arrive."""

    def __init__(self, model: ThumbnailModel, parent: QObject | None = None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setGridSize(TILE)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setItemDelegate(_TileDelegate(model, self))
        self.setModel(model)
        # Rows that scrolled out of sight should not keep the pool busy.
        self.verticalScrollBar().valueChanged.connect(lambda _: model.drop_queued())
        model.sig_pictures_arrived.connect(self.viewport().update)
        model.set_device_pixel_ratio(self.devicePixelRatioF())

    def event(self, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Show, QEvent.Type.DevicePixelRatioChange):  # e.g. moved to a HiDPI screen
            self.model().set_device_pixel_ratio(self.devicePixelRatioF())
        return super().event(event)

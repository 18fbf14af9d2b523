"""A 2-D scatter that stays fast at 100k+ points: rasterised per paint, with hover, click and selection.

pyqtgraph's ScatterPlotItem took 45-80 ms a frame at 100k points here, and QPainter.drawPoints
with a wide pen over 100 ms. This item instead rasterises the visible points with numpy into
one RGBA image at the view's device resolution on every paint, a 3x3 square per point, and
draws that image: points stay sharp at any zoom and on HiDPI screens. Hover uses a k-d tree over the 2-D
coordinates. Selection is a rectangle (drag with Shift) or a lasso (drag with Ctrl); a click on empty map
clears it. The background follows the widget's palette as it changes (light, dark, presenter mode's style).
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPainterPath, QPalette, QPen

from sslstudio.core.colour import CLASS_COLOURS, UNLABELLED_GREY, ClassColours
from sslstudio.gui.widgets.training_plots import apply_plot_theme

HOVER_RADIUS_PX = 6
CLICK_SLOP_PX = 4  # a press and release closer than this is a click, not a pan
# Up to this many visible points, each is stamped (cost grows with points); beyond it, the image is
# dilated (cost grows with pixels): at 100k points stamping is 3x faster, at 1M dilation is 2x.
STAMP_LIMIT = 250_000
SELECTED = (255, 255, 255, 255)
SELECTED_RIM = (20, 20, 20, 255)


def palette(count: int) -> np.ndarray:
    """(count, 4) uint8 colours for categories, as distinct as `count` colours can be (core/colour.py)."""
    rgb = CLASS_COLOURS[np.arange(count) % len(CLASS_COLOURS)]
    return np.hstack([rgb, np.full((count, 1), 255, dtype=np.uint8)])


UNLABELLED = np.array([*UNLABELLED_GREY, 120], dtype=np.uint8)


def categorical(values: np.ndarray, class_colours: ClassColours, prefix: str = "",
                shown: int = 30) -> tuple[np.ndarray, str]:
    """(N, 4) colours, each class's own from `class_colours` ("" is unlabelled, grey), and the legend as rich
    text, in name order."""
    classes = sorted(set(values.tolist()) - {""})
    colours = np.tile(UNLABELLED, (len(values), 1))
    table = np.hstack([class_colours.colours(classes), np.full((len(classes), 1), 255, dtype=np.uint8)])
    lookup = {name: i for i, name in enumerate(classes)}
    index = np.array([lookup.get(v, -1) for v in values.tolist()], dtype=np.intp)
    colours[index >= 0] = table[index[index >= 0]]
    # One entry never wraps inside itself (its dot and its name stay together); names are text, not markup.
    legend = " ".join(f"<span style='color: rgb{tuple(table[i][:3].tolist())}'>●</span>&nbsp;"
                      + html.escape(f"{prefix}{name}").replace(" ", "&nbsp;") for i, name in enumerate(classes[:shown]))
    legend += (" …" if len(classes) > shown else "") + ("<br>grey: unlabelled" if "" in values else "")
    return colours, legend


def ramp(values: np.ndarray) -> np.ndarray:
    """(N, 4) uint8 colours for values in [0, 1], low blue to high orange."""
    low, high = np.array([59, 76, 192, 255.0]), np.array([221, 96, 40, 255.0])
    t = np.clip(np.nan_to_num(values, nan=0.0), 0, 1)[:, None]
    return (low * (1 - t) + high * t).astype(np.uint8)


def _stamp(buffer: np.ndarray, xi: np.ndarray, yi: np.ndarray, colours: np.ndarray, radius: int) -> None:
    """Paint a square of side 2 * radius + 1 per point; later points cover earlier ones."""
    height, width = buffer.shape[:2]
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            buffer[np.clip(yi + dy, 0, height - 1), np.clip(xi + dx, 0, width - 1)] = colours


def _owners(xi: np.ndarray, yi: np.ndarray, height: int, width: int) -> np.ndarray:
    """(height, width) index of the point drawn at each pixel (the last one listed wins), -1 where none."""
    owner = np.full((height, width), -1, dtype=np.int32)
    owner[yi, xi] = np.arange(len(xi), dtype=np.int32)
    return owner


def _dilate(owner: np.ndarray, radius: int) -> np.ndarray:
    """Grow every drawn pixel into a square of side 2 * radius + 1; a point's own pixel keeps priority.
    Shifting whole images costs the same at 100k or 1M points, unlike stamping each point."""
    grown = owner.copy()
    height, width = owner.shape
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy == 0 and dx == 0:
                continue
            target = grown[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)]
            source = owner[max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)]
            np.copyto(target, source, where=target < 0)
    return grown


class PointCloud(pg.GraphicsObject):
    def __init__(self):
        super().__init__()
        self.coords = np.zeros((0, 2))
        self.colours = np.zeros((0, 4), dtype=np.uint8)
        self.selected = np.zeros(0, dtype=bool)
        self._bounds = QRectF()
        self._buffer = np.zeros((0, 0, 4), dtype=np.uint8)  # kept alive while Qt draws from it

    def set_points(self, coords: np.ndarray, colours: np.ndarray) -> None:
        self.prepareGeometryChange()
        self.coords = np.asarray(coords, dtype=np.float64)
        self.colours = np.asarray(colours, dtype=np.uint8)
        self.selected = np.zeros(len(self.coords), dtype=bool)
        if len(self.coords):
            low, high = self.coords.min(axis=0), self.coords.max(axis=0)
            self._bounds = QRectF(low[0], low[1], max(high[0] - low[0], 1e-9), max(high[1] - low[1], 1e-9))
        else:
            self._bounds = QRectF()
        self.update()

    def set_colours(self, colours: np.ndarray) -> None:
        self.colours = np.asarray(colours, dtype=np.uint8)
        self.update()

    def set_selected(self, selected: np.ndarray) -> None:
        self.selected = selected
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt)
        return self._bounds

    def paint(self, painter: QPainter, *args) -> None:
        if not len(self.coords):
            return
        transform = painter.transform()
        device = painter.device()
        ratio = device.devicePixelRatioF()
        width, height = int(device.width() * ratio), int(device.height() * ratio)
        if width <= 0 or height <= 0:
            return
        x = (transform.m11() * self.coords[:, 0] + transform.m31()) * ratio
        y = (transform.m22() * self.coords[:, 1] + transform.m32()) * ratio
        visible = (x >= 1) & (x < width - 1) & (y >= 1) & (y < height - 1)
        xi, yi = x[visible].astype(np.intp), y[visible].astype(np.intp)
        self._buffer = np.zeros((height, width, 4), dtype=np.uint8)
        colours = self.colours[visible]
        if len(xi) <= STAMP_LIMIT:
            _stamp(self._buffer, xi, yi, colours, 1)
        else:
            owner = _dilate(_owners(xi, yi, height, width), 1)
            drawn = owner >= 0
            self._buffer[drawn] = colours[owner[drawn]]
        chosen = np.flatnonzero(self.selected[visible])
        if len(chosen):  # selected points on top and bigger: white with a dark rim
            _stamp(self._buffer, xi[chosen], yi[chosen], np.array(SELECTED_RIM, dtype=np.uint8), 2)
            _stamp(self._buffer, xi[chosen], yi[chosen], np.array(SELECTED, dtype=np.uint8), 1)
        image = QImage(self._buffer.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
        image.setDevicePixelRatio(ratio)
        painter.save()
        painter.resetTransform()
        painter.drawImage(QPointF(0, 0), image)
        painter.restore()


class ScatterView(pg.PlotWidget):
    """Points with hover (`sig_hovered(row)`, -1 when none), click (`sig_clicked(row)`) and selection
    (`sig_selected(rows)`): drag with Shift for a rectangle, with Ctrl for a lasso."""

    sig_hovered = Signal(int)
    sig_clicked = Signal(int)
    sig_selected = Signal(object)

    def __init__(self, parent=None):
        apply_plot_theme()  # the application's light or dark background, not pyqtgraph's black
        super().__init__(parent)
        self.setMouseTracking(True)
        self.cloud = PointCloud()
        self.addItem(self.cloud)
        self.getPlotItem().hideAxis("bottom")
        self.getPlotItem().hideAxis("left")
        self.setAspectLocked(False)
        self._tree = None
        self._hovered = -1
        self._drag: list[QPointF] | None = None
        self._drag_kind = ""
        self._pressed_on_nothing: QPointF | None = None  # where a plain press found no point
        self._outline = pg.QtWidgets.QGraphicsPathItem()
        self._outline.setZValue(10)
        self.addItem(self._outline)
        self._follow_theme()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().changeEvent(event)
        # Qt sends these from the base constructor too, before the outline exists; __init__ follows the theme then.
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange) and hasattr(self, "_outline"):
            self._follow_theme()

    def _follow_theme(self) -> None:
        """The palette's background and a selection outline in its text colour: a style sheet (presenter
        mode) or a dark scheme sets the palette, which pyqtgraph's fixed background would ignore."""
        palette = self.palette()
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        self._outline.setPen(QPen(palette.color(QPalette.ColorRole.Text), 0, Qt.PenStyle.DashLine))

    # ---------------------------------------------------------------- data
    def set_points(self, coords: np.ndarray, colours: np.ndarray, keep_view: bool = False) -> None:
        from scipy.spatial import cKDTree

        self.cloud.set_points(coords, colours)
        self._tree = cKDTree(coords) if len(coords) else None
        self._hovered = -1
        if not keep_view:
            self.getPlotItem().getViewBox().autoRange(padding=0.03)

    def set_colours(self, colours: np.ndarray) -> None:
        self.cloud.set_colours(colours)

    def select(self, rows: np.ndarray) -> None:
        selected = np.zeros(len(self.cloud.coords), dtype=bool)
        selected[np.asarray(rows, dtype=np.intp)] = True
        self.cloud.set_selected(selected)
        self.sig_selected.emit(np.flatnonzero(selected))

    def selected_rows(self) -> np.ndarray:
        return np.flatnonzero(self.cloud.selected)

    # ---------------------------------------------------------------- lookup
    def row_at(self, scene_pos: QPointF) -> int:
        """The point under a scene position, within a few pixels, or -1."""
        if self._tree is None:
            return -1
        view = self.getPlotItem().getViewBox()
        data = view.mapSceneToView(scene_pos)
        x_per_px, y_per_px = view.viewPixelSize()
        scale = np.array([1 / max(x_per_px, 1e-12), 1 / max(y_per_px, 1e-12)])
        distance, row = self._tree.query([data.x(), data.y()], k=min(8, len(self.cloud.coords)))
        rows = np.atleast_1d(row)
        pixels = np.hypot(*((self.cloud.coords[rows] - [data.x(), data.y()]) * scale).T)
        best = int(np.argmin(pixels))
        return int(rows[best]) if pixels[best] <= HOVER_RADIUS_PX else -1

    # ---------------------------------------------------------------- mouse
    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt)
        modifiers = event.modifiers()
        if event.button() == Qt.MouseButton.LeftButton and modifiers & (Qt.KeyboardModifier.ShiftModifier
                                                                        | Qt.KeyboardModifier.ControlModifier):
            self._drag_kind = "lasso" if modifiers & Qt.KeyboardModifier.ControlModifier else "rect"
            self._drag = [self._to_view(event.position())]
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            row = self.row_at(self.mapToScene(event.position().toPoint()))
            if row >= 0:
                self.sig_clicked.emit(row)
            self._pressed_on_nothing = event.position() if row < 0 else None
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt)
        if self._drag is not None:
            point = self._to_view(event.position())
            self._drag = self._drag[:1] + [point] if self._drag_kind == "rect" else self._drag + [point]
            self._outline.setPath(self._path())
            event.accept()
            return
        row = self.row_at(self.mapToScene(event.position().toPoint()))
        if row != self._hovered:
            self._hovered = row
            self.sig_hovered.emit(row)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt)
        if self._drag is not None:
            path = self._path()
            self._drag = None
            self._outline.setPath(QPainterPath())
            self.select(self.rows_inside(path))
            event.accept()
            return
        pressed, self._pressed_on_nothing = self._pressed_on_nothing, None
        if (pressed is not None and event.button() == Qt.MouseButton.LeftButton
                and (event.position() - pressed).manhattanLength() < CLICK_SLOP_PX and self.cloud.selected.any()):
            self.select(np.empty(0, dtype=np.intp))  # a click on empty map, not a pan: nothing selected
        super().mouseReleaseEvent(event)

    def _to_view(self, position) -> QPointF:
        return self.getPlotItem().getViewBox().mapSceneToView(self.mapToScene(position.toPoint()))

    def _path(self) -> QPainterPath:
        path = QPainterPath()
        if not self._drag:
            return path
        if self._drag_kind == "rect":
            end = self._drag[-1]
            path.addRect(QRectF(self._drag[0], end).normalized())
            return path
        path.moveTo(self._drag[0])
        for point in self._drag[1:]:
            path.lineTo(point)
        path.closeSubpath()
        return path

    def rows_inside(self, path: QPainterPath) -> np.ndarray:
        """Rows whose points lie inside a closed path in data coordinates (even-odd rule, vectorised)."""
        polygon = np.array([[p.x(), p.y()] for p in path.toFillPolygon()], dtype=np.float64)
        coords = self.cloud.coords
        if len(polygon) < 3 or not len(coords):
            return np.empty(0, dtype=np.intp)
        low, high = polygon.min(axis=0), polygon.max(axis=0)
        candidates = np.flatnonzero(np.all((coords >= low) & (coords <= high), axis=1))
        x, y = coords[candidates, 0], coords[candidates, 1]
        inside = np.zeros(len(candidates), dtype=bool)
        start, end = polygon, np.roll(polygon, -1, axis=0)
        for (x1, y1), (x2, y2) in zip(start, end, strict=True):
            crosses = (y1 > y) != (y2 > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (x < at)
        return candidates[inside]

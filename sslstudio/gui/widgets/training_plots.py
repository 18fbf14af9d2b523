"""Live training plots: loss (raw and smoothed), learning rate, speed, collapse std, effective rank, kNN.

Events land in growing numpy buffers (capacity doubles, so appends stay cheap at
100k steps); the curves redraw on a timer, only when something new arrived, with
peak downsampling and clipToView (pyqtgraph's scrollingPlots example). Other runs
can be overlaid, faded, from their metrics.jsonl.

The grid reflows with the width (three columns, two, or one) and scrolls rather than squeezing a plot
below a readable height; an axis whose values are all equal (one logged point) gets a padded range,
so its ticks stay short.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

from sslstudio.core.training.events import HealthMetrics, StepMetrics, events_from_record

REDRAW_MS = 250
PLOT_MIN_WIDTH = 330  # px: below this a title or the tick labels are cut; fewer columns instead
PLOT_MIN_HEIGHT = 170
SMOOTHING = 0.9  # EMA factor for the smoothed loss
OVERLAY_COLOURS = ("#9aa5b1", "#c7a27c", "#a3c4a0", "#c4a3c0")
KNN_NEEDS_LABELS = "needs labelled folders"
KNN_WILL_SHOW = "measured on the labelled folders\nwhile the run trains"


def apply_plot_theme() -> None:
    """pyqtgraph draws black by default; follow the application's light or dark palette instead."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    palette = QApplication.palette()
    pg.setConfigOptions(antialias=False, background=palette.color(QPalette.ColorRole.Base),
                        foreground=palette.color(QPalette.ColorRole.Text))


class GrowingSeries:
    def __init__(self, capacity: int = 1024):
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n == len(self.x):
            self.x = np.resize(self.x, 2 * len(self.x))
            self.y = np.resize(self.y, 2 * len(self.y))
        self.x[self.n], self.y[self.n] = x, y
        self.n += 1

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[:self.n], self.y[:self.n]

    def clear(self) -> None:
        self.n = 0


def smooth(values: np.ndarray, factor: float = SMOOTHING) -> np.ndarray:
    """Bias-corrected exponential moving average, as TensorBoard draws it."""
    from scipy.signal import lfilter

    average = lfilter([1 - factor], [1, -factor], values)
    return average / (1 - factor ** np.arange(1, len(values) + 1))


class TrainingPlots(QWidget):
    PANELS = (("loss", "loss"), ("lr", "learning rate"), ("speed", "samples/s"),
              ("collapse", "collapse std (higher: healthier)"), ("rank", "effective rank"),
              ("knn", "online kNN accuracy"))

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        apply_plot_theme()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.canvas = pg.GraphicsLayoutWidget()
        self.scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.canvas)
        layout.addWidget(self.scroll)
        self.plots: dict[str, pg.PlotItem] = {}
        self.titles = dict(self.PANELS)
        self._title_size: dict = {}  # presenter mode's larger titles
        for key, title in self.PANELS:
            plot = pg.PlotItem(title=title)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setLabel("bottom", "step")
            self.plots[key] = plot
        self.columns = 0
        self._arrange(3)
        self._pinned: set[str] = set()  # plots whose y range is pinned around a single value
        self.knn_note = pg.TextItem(KNN_NEEDS_LABELS, color="#888888", anchor=(0.5, 0.5))
        self.plots["knn"].addItem(self.knn_note, ignoreBounds=True)
        self.knn_note.setPos(0.5, 0.5)
        self.series = {key: GrowingSeries() for key in ("loss", "loss_smooth", "lr", "speed", "collapse", "healthy",
                                                         "rank", "knn")}
        self._ema = 0.0
        self.plots["loss"].addLegend(offset=(-10, 10))  # before the curves, which it lists as they are added
        self.curves = {
            "loss": self._curve("loss", "#c9d6e8", "raw"),
            "loss_smooth": self._curve("loss", "#1f5fbf", "smoothed", width=2),
            "lr": self._curve("lr", "#8a4fbf"),
            "speed": self._curve("speed", "#2e8b57"),
            "collapse": self._curve("collapse", "#d0702c", "collapse std"),
            "healthy": self._curve("collapse", "#999999", "1/sqrt(D)", style=2),
            "rank": self._curve("rank", "#b03060"),
            "knn": self._curve("knn", "#1f8f8f", symbol="o"),
        }
        self.overlays: list[pg.PlotDataItem] = []
        self.dirty = False
        self.timer = QTimer(self, interval=REDRAW_MS, timeout=self.redraw)
        self.timer.start()

    def _curve(self, plot: str, colour: str, name: str | None = None, width: int = 1, style: int = 1,
               symbol: str | None = None) -> pg.PlotDataItem:
        from PySide6.QtCore import Qt

        pen = pg.mkPen(colour, width=width, style=Qt.PenStyle(style))
        curve = self.plots[plot].plot(pen=pen, name=name, symbol=symbol, symbolSize=5,
                                      symbolBrush=colour if symbol else None)
        curve.setDownsampling(auto=True, method="peak")  # after adding it (pyqtgraph#1855)
        curve.setClipToView(True)
        return curve

    def set_noun(self, noun: str) -> None:
        """The speed plot counts what the folder holds (images/s, clips/s, texts/s), as the progress bar does."""
        self.titles["speed"] = f"{noun}/s"
        self.plots["speed"].setTitle(self.titles["speed"], **self._title_size)

    def set_labelled(self, labelled: bool) -> None:
        """Whether the folder has labelled class folders, which the online kNN is measured on."""
        self.knn_note.setText(KNN_WILL_SHOW if labelled else KNN_NEEDS_LABELS)

    def set_large(self, on: bool) -> None:
        """Presenter mode: titles, ticks and lines large enough for the back of a room (or back to normal)."""
        from PySide6.QtWidgets import QApplication

        font = QApplication.font()  # the presenter's larger type, or the desktop's again
        self._title_size = {"size": f"{round(font.pointSizeF() * 1.3)}pt"} if on else {}
        for key, plot in self.plots.items():
            if not on:
                plot.titleLabel.opts.pop("size", None)  # the label's own default again
            plot.setTitle(self.titles[key], **self._title_size)
            for side in ("left", "bottom"):
                plot.getAxis(side).setStyle(tickFont=font)
                plot.getAxis(side).label.setFont(font)
        for curve in self.curves.values():
            pen = curve.opts["pen"]
            pen.setWidthF(pen.widthF() * 2.5 if on else max(1.0, pen.widthF() / 2.5))
            curve.setPen(pen)

    # ---------------------------------------------------------------- layout
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        self._arrange(columns_for(event.size().width()))

    def _arrange(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        grid = self.canvas.ci
        for plot in self.plots.values():
            if plot in grid.items:
                grid.removeItem(plot)
        for n, plot in enumerate(self.plots.values()):
            grid.addItem(plot, row=n // columns, col=n % columns)
        rows = -(-len(self.plots) // columns)
        self.canvas.setMinimumHeight(rows * PLOT_MIN_HEIGHT)

    # ---------------------------------------------------------------- data
    def add_events(self, events: list) -> None:
        for event in events:
            if isinstance(event, StepMetrics):
                self._add_loss(event.step, event.loss)
                self.series["lr"].append(event.step, event.lr)
                self.series["speed"].append(event.step, event.samples_per_s)
            elif isinstance(event, HealthMetrics):
                self.series["collapse"].append(event.step, event.collapse_std)
                self.series["healthy"].append(event.step, event.healthy_std)
                self.series["rank"].append(event.step, event.effective_rank)
                if event.knn_accuracy is not None:
                    self.series["knn"].append(event.step, event.knn_accuracy)
        self.dirty = True

    def load_records(self, records: list[dict]) -> None:
        """Fill from a run's metrics.jsonl (a resumed run shows its whole history)."""
        self.clear()
        self.add_events([event for record in records for event in events_from_record(record)])

    def _add_loss(self, step: int, loss: float) -> None:
        """Raw loss and its bias-corrected EMA, kept incrementally so a redraw never recomputes it."""
        n = self.series["loss"].n
        self._ema = SMOOTHING * self._ema + (1 - SMOOTHING) * loss
        self.series["loss"].append(step, loss)
        self.series["loss_smooth"].append(step, self._ema / (1 - SMOOTHING ** (n + 1)))

    def clear(self) -> None:
        for series in self.series.values():
            series.clear()
        self._ema = 0.0
        self.dirty = True

    def overlay(self, name: str, records: list[dict]) -> None:
        """Another run's smoothed loss, faded, for comparison."""
        if not records:
            return
        colour = OVERLAY_COLOURS[len(self.overlays) % len(OVERLAY_COLOURS)]
        steps = np.array([r["step"] for r in records], dtype=float)
        losses = smooth(np.array([r["loss"] for r in records], dtype=float))
        curve = self.plots["loss"].plot(steps, losses, pen=pg.mkPen(colour, width=1), name=name)
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        self.overlays.append(curve)

    def clear_overlays(self) -> None:
        for curve in self.overlays:
            self.plots["loss"].removeItem(curve)
        self.overlays.clear()

    # ---------------------------------------------------------------- drawing
    @Slot()
    def redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        for key in ("loss", "loss_smooth", "lr", "speed", "collapse", "healthy", "rank", "knn"):
            self.curves[key].setData(*self.series[key].view())
        self.knn_note.setVisible(not self.series["knn"].n)
        for key in ("loss_smooth", "lr", "speed", "collapse", "rank"):  # a line of one point draws nothing
            dot = "o" if self.series[key].n == 1 else None
            curve = self.curves[key]
            if curve.opts["symbol"] != dot:  # setting it redraws the curve: only on a change
                curve.setSymbolBrush(pg.mkPen(curve.opts["pen"]).color())  # filled, in the curve's colour
                curve.setSymbol(dot)
        for key, plot in self.plots.items():
            self._readable_y(key, plot, self.series[key].view()[1])

    def _readable_y(self, key: str, plot: pg.PlotItem, values: np.ndarray) -> None:
        """With values that are all equal (one logged point), autoscaling zooms into a range of nothing and
        the ticks read 1.383329153060917: pin a padded range around the value until the values spread, then
        hand the axis back to autoscaling (a range the user zoomed to is left alone)."""
        flat = len(values) and np.ptp(values) <= 1e-9 * max(1.0, float(np.abs(values).max()))
        if flat:
            value = float(values[0])
            pad = max(abs(value) * 0.1, 1e-3)
            plot.getViewBox().setYRange(value - pad, value + pad, padding=0)
            self._pinned.add(key)
        elif key in self._pinned:
            self._pinned.discard(key)
            plot.getViewBox().enableAutoRange(axis="y")


def columns_for(width: int) -> int:
    """Three plots a row where each gets PLOT_MIN_WIDTH, else two, else one."""
    return max(1, min(3, width // PLOT_MIN_WIDTH))


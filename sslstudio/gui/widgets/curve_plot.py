"""The label-efficiency curve: test accuracy against labels per class, for the run's features and the two
baselines, with the spread between seeds and the plain-language verdict under it. Self-contained: a
LabelCurve (core/evaluation/label_efficiency.py) comes in through `show_curve`."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from sslstudio.gui.widgets.training_plots import apply_plot_theme

CURVE_COLOURS = {"ssl": "#1f5fbf", "random_init": "#d0702c", "raw": "#6b6b6b"}
CURVE_NAMES = {"ssl": "self-supervised", "random_init": "random init", "raw": "raw inputs"}


class CurvePlot(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        apply_plot_theme()
        self.plot = pg.PlotWidget(title="accuracy against labels per class")
        self.plot.setLabel("bottom", "labels per class (log scale)")
        self.plot.setLabel("left", "test accuracy")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setLogMode(x=True, y=False)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(-10, -10))
        self.verdict = QLabel(wordWrap=True, toolTip="Against the stronger baseline at each point; a gap inside the "
                                                     "spread between seeds counts as a tie")
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.verdict)

    def clear(self) -> None:
        self.plot.clear()
        self.verdict.clear()

    def show_curve(self, curve, n_classes: int, raw_name: str, complete: bool = True) -> None:
        """Draw `curve`; its "all labels" point sits at the mean labels per class of `n_classes`. A curve
        still being measured (`complete` False) has no verdict yet."""
        self.plot.clear()
        shots = [k if k > 0 else n // max(n_classes, 1) for k, n in zip(curve.shots, curve.n_train, strict=True)]
        x = np.array(shots, dtype=float)
        for name, mean in curve.mean.items():
            mean, std = np.array(mean), np.array(curve.std[name])
            colour = CURVE_COLOURS.get(name, "#999999")
            self.plot.plot(x, mean, pen=pg.mkPen(colour, width=2), symbol="o", symbolBrush=colour, symbolSize=6,
                           name=CURVE_NAMES.get(name, name))
            self.plot.addItem(pg.ErrorBarItem(x=np.log10(x), y=mean, height=2 * std, pen=pg.mkPen(colour)))
        labels = ["all" if k == 0 else str(k) for k in curve.shots]
        self.plot.getAxis("bottom").setTicks([[(float(np.log10(v)), text) for v, text in zip(x, labels, strict=True)]])
        self.plot.setYRange(0, 1)
        note = curve.note()
        if not complete:
            self.verdict.setText(f"Measuring: {len(curve.shots)} point(s) so far, from the fewest labels up."
                                 + (f" Note: {note}." if note else ""))
            return
        self.verdict.setText(" ".join(part for part in (curve.verdict(raw_name),
                                                        f"Note: {note}." if note else "") if part))

"""The confusion matrix of a probe, shaded by count, with each class's accuracy in the last column.
Self-contained: an error report comes in through `show_errors`."""
from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget


class ConfusionTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip("Rows: true class; columns: predicted")
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)  # no side scroll

    def show_errors(self, errors) -> None:
        """`errors`: an ErrorReport (classes, confusion counts, per-class accuracy)."""
        names = errors.classes
        self.setRowCount(len(names))
        self.setColumnCount(len(names) + 1)
        self.setHorizontalHeaderLabels(names + ["accuracy"])
        self.setVerticalHeaderLabels(names)
        peak = max(int(errors.confusion.max()), 1)
        for i in range(len(names)):
            for j in range(len(names)):
                count = int(errors.confusion[i, j])
                cell = QTableWidgetItem(str(count))
                shade = 255 - int(150 * count / peak)
                cell.setBackground(QColor(shade, shade, 255) if i == j else QColor(255, shade, shade))
                self.setItem(i, j, cell)
            self.setItem(i, len(names), QTableWidgetItem(f"{errors.per_class[i]:.1%}"))

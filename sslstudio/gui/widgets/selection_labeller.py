"""Label what is selected on the map: how many are selected, a class to give them (picked from the known
ones or typed), and the button. Self-contained: the count and the classes come in, the request goes out."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QVBoxLayout, QWidget

NOTHING = "Nothing selected: Shift-drag for a rectangle, Ctrl-drag for a lasso"


class SelectionLabeller(QWidget):
    sig_label = Signal(str)
    """Give the selection this class."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.count = QLabel(NOTHING, wordWrap=True)
        self.class_box = QComboBox(editable=True, toolTip="A class for the selected samples: pick one or type a "
                                                          "new name")
        self.button = QPushButton("Label selection", toolTip="Give the selected samples this class")
        self.button.clicked.connect(lambda: self.sig_label.emit(self.class_box.currentText().strip()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.count, self.class_box, self.button):
            layout.addWidget(widget)

    def show_selected(self, count: int) -> None:
        self.count.setText(f"{count:,} selected" if count else NOTHING)

    def set_classes(self, classes: list[str]) -> None:
        """The known classes to pick from; what the user typed stays."""
        typed = self.class_box.currentText()
        self.class_box.clear()
        self.class_box.addItems(classes or ["class 1"])
        if typed:
            self.class_box.setEditText(typed)

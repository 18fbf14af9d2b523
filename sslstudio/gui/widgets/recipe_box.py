"""The recommended recipe for a folder: what it is, what it measured and where, and a button to use it.
Self-contained: a recipe (core/recipes.py) comes in through `show_recipe`, the choice goes out as a signal."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class RecipeBox(QWidget):
    sig_use = Signal(object)
    """The user chose the recipe: the Recipe."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.recipe = None
        self.label = QLabel(wordWrap=True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton("Use the recipe", enabled=False)
        self.button.setToolTip("Choose the recommended task and its settings, and its budget on the Train step; "
                               "every value can still be changed")
        self.button.clicked.connect(lambda: self.recipe is not None and self.sig_use.emit(self.recipe))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)

    def show_recipe(self, recipe) -> None:
        self.recipe = recipe
        self.button.setEnabled(recipe is not None)
        self.label.setText("No recommended recipe for this kind of data yet." if recipe is None else
                           f"<b>Recommended</b>: {recipe.summary()}<br><small>{recipe.evidence()}</small>")

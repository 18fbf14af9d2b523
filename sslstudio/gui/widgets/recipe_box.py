"""The recommended recipe for a folder: what it is, what it measured and where, and a button to use it.
Self-contained: a recipe (core/recipes.py) comes in through `show_recipe` and the folder's survey through
`show_folder` (its figures show only beside a folder like the data they were measured on); the choice goes
out as a signal."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class RecipeBox(QWidget):
    sig_use = Signal(object)
    """The user chose the recipe: the Recipe."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.recipe = None
        self.folder = None  # the folder's Survey, once its files were looked at
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
        self._show()

    def show_folder(self, survey) -> None:
        """What the folder's files are like (core/data/survey.py): the evidence is weighed against it."""
        self.folder = survey
        self._show()

    def _show(self) -> None:
        recipe = self.recipe
        self.label.setText("No recommended recipe for this kind of data yet." if recipe is None else
                           f"<b>Recommended</b>: {html.escape(recipe.summary(), quote=False)}<br>"
                           f"<small>{html.escape(recipe.evidence(self.folder), quote=False)}</small>")

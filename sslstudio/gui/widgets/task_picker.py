"""Which pretext task: the modality's tasks by family and cost, the recipe recommended above them, and the
chosen task's description below. Self-contained: a catalogue (core/tasks/registry.py `catalogue`) and a recipe
come in through `show_catalogue`; the choice goes out as signals."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from sslstudio.gui.widgets.recipe_box import RecipeBox


class TaskPicker(QWidget):
    sig_chosen = Signal(dict)
    """A task was chosen: its catalogue entry (name, family, cost, description, reference, args)."""
    sig_recipe_used = Signal(object)
    """The user chose the recommended recipe: the Recipe."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.catalogue: list[dict] = []
        self.recipe_box = RecipeBox()
        self.recipe_box.sig_use.connect(self.sig_recipe_used)
        self.task_list = QListWidget(maximumHeight=170, wordWrap=True)
        # A line too long for the column wraps under its name instead of running off the right edge.
        self.task_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.task_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.task_list.currentRowChanged.connect(self._on_row)
        self.about = QLabel(wordWrap=True)
        self.about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.recipe_box, self.task_list, self.about):
            layout.addWidget(widget)

    def clear(self) -> None:
        self.catalogue = []
        self.task_list.clear()

    def show_catalogue(self, catalogue: list[dict], recipe, task: str | None) -> None:
        """List the tasks and choose `task` (the first when it is not listed)."""
        self.catalogue = catalogue
        self.recipe_box.show_recipe(recipe)
        self.task_list.blockSignals(True)
        self.task_list.clear()
        for entry in catalogue:
            item = QListWidgetItem(f"{entry['name']}  ·  {entry['family']}, {entry['cost']} cost")
            item.setToolTip(f"{entry['description']}\n\nCost: {entry['cost_means']}.")
            self.task_list.addItem(item)
        self.task_list.setCurrentRow(-1)
        self.task_list.blockSignals(False)
        names = self.names()
        self.task_list.setCurrentRow(names.index(task) if task in names else 0)

    def names(self) -> list[str]:
        return [entry["name"] for entry in self.catalogue]

    def current_task(self) -> str | None:
        row = self.task_list.currentRow()
        return self.catalogue[row]["name"] if 0 <= row < len(self.catalogue) else None

    def choose(self, task: str) -> None:
        """Choose a listed task; choosing the current one again announces it again (so its settings can be
        reset)."""
        if self.current_task() == task:
            self.task_list.setCurrentRow(-1)
        self.task_list.setCurrentRow(self.names().index(task))

    @Slot(int)
    def _on_row(self, row: int) -> None:
        if 0 <= row < len(self.catalogue):
            entry = self.catalogue[row]
            self.about.setText(f"{entry['description']}<br><small><i>{entry['reference']}</i></small>")
            self.sig_chosen.emit(entry)

"""The Task & Preview step: pick a pretext task, tune it, and see exactly what the model will see.

The input settings (image size, clip length, text length) come first, proposed from the
folder's files. The preview is the task's own `preview()`, which calls the same `make_batch`
as training on inputs read as training reads them. It runs off the GUI thread, debounced while
the user edits a setting; results of outdated requests are dropped by a generation counter.
The first preview decodes a fixed, seeded sample of the folder at the chosen input settings and
fits the input pipeline on it (a larger share for text, whose tokenizer needs words).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sslstudio.core.data.survey import survey
from sslstudio.core.errors import UserError
from sslstudio.core.preview import POOL, preview_inputs, render_preview
from sslstudio.core.recipes import recommended_here
from sslstudio.gui.errors import show_error
from sslstudio.gui.jobs import JobRunner
from sslstudio.gui.widgets.args_form import ArgsForm
from sslstudio.gui.widgets.input_settings import InputSettings
from sslstudio.gui.widgets.preview_grid import PreviewGrid
from sslstudio.gui.widgets.recipe_box import RecipeBox

DEBOUNCE_MS = 250
PREVIEW_SAMPLES = 8


def task_listing(modality: str):
    """The modality's tasks by family, and the recipe recommended for it on this machine."""
    from sslstudio.core.tasks.registry import catalogue  # loads torch

    return catalogue(modality), recommended_here(modality)


def survey_here(root: Path, relpaths: list[str], modality: str):
    """The folder's file sizes (headers only) and the device training will use, for the input proposal."""
    from sslstudio.core.training.device import resolve_device  # loads torch

    return survey(root, relpaths, modality), resolve_device("auto").type


def render(inputs, task_name: str, values: dict, seed: int):
    """The preview of `task_name` with these settings on the decoded pool and its fitted pipeline."""
    from sslstudio.core.tasks.registry import get_task  # loads torch

    samples, pipeline = inputs
    task_cls = get_task(task_name)
    return render_preview(task_cls(task_cls.Args.from_mapping(values), pipeline), samples, PREVIEW_SAMPLES, seed)


class TaskPanel(QWidget):
    sig_task_changed = Signal(str, dict)
    """The chosen task and its settings (only those changed from the defaults)."""
    sig_inputs_changed = Signal(dict)
    """The input settings: every value, as training will use them."""
    sig_catalogue_ready = Signal(str)
    """The modality whose tasks are now listed."""
    sig_recipe_chosen = Signal(object)
    """A recommended recipe was chosen (by the user, or for a folder with no task yet): its budget goes to Train."""

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.jobs = jobs
        self.folder: tuple[Path, str, list[str]] | None = None
        self.inputs = None  # (SampleSet, Pipeline) for the current folder, made by the first preview
        self.input_values: dict | None = None  # the input settings, once proposed for the folder
        self._pending_values: dict = {}  # a project's task settings, applied when its task is listed
        self.catalogue: list[dict] = []
        self._listing = 0  # bumps per set_folder, so a late task listing of an older folder is dropped
        self.generation = 0
        self.busy = False
        self.stale = False
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS, timeout=self.refresh)
        self._build()

    def _build(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(QLabel("<b>Input</b> (proposed from the folder's files)"))
        self.input_settings = InputSettings()
        self.input_settings.sig_changed.connect(self._on_inputs_changed)
        left_layout.addWidget(self.input_settings)
        left_layout.addWidget(QLabel("<b>Pretext task</b>"))
        self.recipe_box = RecipeBox()
        self.recipe_box.sig_use.connect(self.use_recipe)
        left_layout.addWidget(self.recipe_box)
        self.task_list = QListWidget()
        self.task_list.setMaximumHeight(150)
        self.task_list.currentRowChanged.connect(self._on_task_row)
        left_layout.addWidget(self.task_list)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left_layout.addWidget(self.about)
        left_layout.addWidget(QLabel("<b>Settings</b> (hover a name for its help)"))
        self.form = ArgsForm()
        self.form.sig_changed.connect(self._on_values_changed)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        left_layout.addWidget(scroll, 1)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c03030;")
        left_layout.addWidget(self.error)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        bar = QHBoxLayout()
        self.status = QLabel("Open a folder on the Data step to preview a task.")
        bar.addWidget(self.status, 1)
        bar.addWidget(QLabel("seed"))
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        self.seed.setToolTip("The preview's random draw: which samples, and the task's random choices")
        self.seed.valueChanged.connect(self.schedule)
        bar.addWidget(self.seed)
        self.new_button = QPushButton("New samples")
        self.new_button.setToolTip("Draw other samples and other random choices (Ctrl+R)")
        self.new_button.setShortcut("Ctrl+R")
        self.new_button.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))
        bar.addWidget(self.new_button)
        right_layout.addLayout(bar)
        self.grid = PreviewGrid()
        right_layout.addWidget(self.grid, 1)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([360, 900])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    # ---------------------------------------------------------------- inputs
    def set_folder(self, root: Path, modality: str, relpaths: list[str], task: str | None = None,
                   values: dict | None = None, inputs: dict | None = None) -> None:
        """Show the tasks for this folder's modality and its input settings; both are made off the GUI
        thread (the first task listing imports torch, the proposal reads file headers)."""
        self.folder = (Path(root), modality, list(relpaths))
        self.inputs = None
        self.input_values = None  # known once the folder's files are surveyed
        self.catalogue = []
        self.task_list.clear()
        self._pending_values = values or {}
        self._listing += 1
        listing = self._listing
        job = self.jobs.start("listing tasks", lambda _state: task_listing(modality), self)
        job.sig_done.connect(lambda found: self._show_catalogue(listing, modality, *found, task))
        survey = self.jobs.start("looking at the files", lambda _state: survey_here(root, relpaths, modality), self)
        survey.sig_done.connect(lambda result: self._show_inputs(listing, result, inputs))

    def _show_inputs(self, listing: int, result, inputs: dict | None) -> None:
        if listing == self._listing:
            self.input_settings.show_folder(*result, inputs)

    @Slot(dict)
    def _on_inputs_changed(self, values: dict) -> None:
        if values != self.input_values:
            self.input_values = dict(values)
            self.inputs = None  # the preview's samples are decoded again at the new settings
            self.sig_inputs_changed.emit(dict(values))
            self.schedule()

    def _show_catalogue(self, listing: int, modality: str, catalogue: list[dict], recipe, task: str | None) -> None:
        if listing != self._listing:
            return  # another folder was opened meanwhile
        self.catalogue = catalogue
        self.recipe_box.show_recipe(recipe)
        if task is None and recipe is not None:  # a folder's first run trains its recommended recipe
            task, self._pending_values = recipe.task, dict(recipe.task_args)
            self.sig_recipe_chosen.emit(recipe)
        names = [entry["name"] for entry in catalogue]
        self.task_list.blockSignals(True)
        for entry in catalogue:
            item = QListWidgetItem(f"{entry['name']}  ·  {entry['family']}, {entry['cost']} cost")
            item.setToolTip(f"{entry['description']}\n\nCost: {entry['cost_means']}.")
            self.task_list.addItem(item)
        self.task_list.blockSignals(False)
        self.task_list.setCurrentRow(names.index(task) if task in names else 0)
        self.sig_catalogue_ready.emit(modality)

    @Slot(object)
    def use_recipe(self, recipe) -> None:
        """Choose the recipe's task with its settings; its budget goes to the Train step."""
        names = [entry["name"] for entry in self.catalogue]
        self._pending_values = dict(recipe.task_args)
        if self.current_task() == recipe.task:
            self.task_list.setCurrentRow(-1)  # choose it again, so its settings are reset to the recipe's
        self.task_list.setCurrentRow(names.index(recipe.task))
        self.sig_recipe_chosen.emit(recipe)

    def current_task(self) -> str | None:
        row = self.task_list.currentRow()
        return self.catalogue[row]["name"] if 0 <= row < len(self.catalogue) else None

    @Slot(int)
    def _on_task_row(self, row: int) -> None:
        if not 0 <= row < len(self.catalogue):
            return
        entry = self.catalogue[row]
        self.about.setText(f"{entry['description']}<br><small><i>{entry['reference']}</i></small>")
        from sslstudio.core.tasks.registry import get_task  # loads torch

        values, problems = get_task(entry["name"]).Args.valid_part(self._pending_values)
        self._pending_values = {}
        if problems:  # a hand-edited or damaged project file: its other settings still apply
            show_error(self, f"Some of the project's settings for {entry['name']} were not used (task_args): "
                             + "; ".join(problems) + ". Their defaults are shown instead.")
        self.form.set_schema(entry["args"], values)
        self.sig_task_changed.emit(entry["name"], self.form.changed_from_defaults())
        self.refresh()

    @Slot(dict)
    def _on_values_changed(self, _values: dict) -> None:
        self.sig_task_changed.emit(self.current_task(), self.form.changed_from_defaults())
        self.schedule()

    @Slot()
    def schedule(self) -> None:
        self._debounce.start()

    # ---------------------------------------------------------------- preview
    @Slot()
    def refresh(self) -> None:
        if self.folder is None or self.current_task() is None or self.input_values is None:
            return
        if self.busy:
            self.stale = True  # one more refresh once the running one ends
            return
        self.generation += 1
        generation, task, values, seed = self.generation, self.current_task(), self.form.values(), self.seed.value()
        folder = self.folder
        root, modality, relpaths = folder
        inputs = self.inputs
        try:
            spec = self.input_settings.spec()
        except UserError as error:
            self.error.setText(str(error))
            return
        self.busy, self.stale = True, False
        self.status.setText("rendering preview…" if inputs else f"decoding {min(len(relpaths), POOL[modality])} "
                            "samples for the preview…")

        def work(_state):
            made = inputs or preview_inputs(root, relpaths, modality, spec, wait=False)  # not behind the Data step
            return made, render(made, task, values, seed)

        job = self.jobs.start("preview", work, self)
        job.sig_done.connect(lambda result: self._on_rendered(generation, folder, spec, task, result))
        job.sig_failed.connect(lambda message, details: self._on_failed(generation, message, details))
        job.sig_over.connect(self._on_over)

    def _on_rendered(self, generation: int, folder, spec, task: str, result) -> None:
        inputs, (samples, ids) = result
        if folder is self.folder and spec == self._current_spec():
            self.inputs = inputs  # decoded once per folder and input settings; later previews reuse it
        if generation != self.generation:
            return
        self.error.clear()
        self.grid.show_samples(samples, names=ids)
        self.status.setText(f"{task}: {len(samples)} samples, exactly as training will make them "
                            f"(seed {self.seed.value()})")

    def _on_failed(self, generation: int, message: str, details: str) -> None:
        if generation != self.generation:
            return
        if details:  # a bug: the full dialog

            show_error(self, message, details)
        self.error.setText(message)
        self.status.setText("no preview: fix the setting shown in red")

    def _on_over(self) -> None:
        self.busy = False
        if self.stale:
            self.refresh()

    def _current_spec(self):
        try:
            return self.input_settings.spec()
        except UserError:
            return None


if __name__ == "__main__":  # a manual look: python -m sslstudio.gui.panels.task_panel [FOLDER]
    import sys

    from sslstudio.core.data.scan import scan_folder
    from sslstudio.gui.app import run_alone
    from sslstudio.resources import demo_folder

    def build():
        folder = Path(sys.argv[1]) if len(sys.argv) > 1 else demo_folder("image")
        scan = scan_folder(folder)
        modality = scan.choose_modality()
        jobs = JobRunner()
        panel = TaskPanel(jobs)
        panel.resize(1300, 800)
        panel.set_folder(folder, modality, scan.files[modality])
        return panel, lambda: (jobs.cancel_all(), jobs.wait_all())

    run_alone(build)

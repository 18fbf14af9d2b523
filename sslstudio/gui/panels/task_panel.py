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

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from sslstudio.core.data.survey import survey
from sslstudio.core.errors import UserError
from sslstudio.core.preview import POOL, preview_inputs, render_preview
from sslstudio.core.recipes import recommended_here
from sslstudio.gui.errors import show_error
from sslstudio.gui.jobs import JobRunner
from sslstudio.gui.widgets.args_form import ArgsForm
from sslstudio.gui.widgets.input_settings import InputSettings
from sslstudio.gui.widgets.preview_bar import PreviewBar
from sslstudio.gui.widgets.preview_grid import PreviewGrid
from sslstudio.gui.widgets.task_picker import TaskPicker

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
        self._listing = 0  # bumps per set_folder, so a late task listing of an older folder is dropped
        self.generation = 0
        self.busy = False
        self.stale = False
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS, timeout=self.refresh)
        self._build()

    def _build(self) -> None:
        self.input_settings = InputSettings()
        self.input_settings.sig_changed.connect(self._on_inputs_changed)
        self.picker = TaskPicker()
        self.picker.sig_chosen.connect(self._on_task_chosen)
        self.picker.sig_recipe_used.connect(self.use_recipe)
        self.form = ArgsForm()
        self.form.sig_changed.connect(self._on_values_changed)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.form)
        self.error = QLabel(wordWrap=True, styleSheet="color: #c03030;")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        for widget in (QLabel("<b>Input</b> (proposed from the folder's files)"), self.input_settings,
                       QLabel("<b>Pretext task</b>"), self.picker,
                       QLabel("<b>Settings</b> (hover a name for its help)")):
            left_layout.addWidget(widget)
        left_layout.addWidget(scroll, 1)
        left_layout.addWidget(self.error)

        self.bar = PreviewBar()
        self.bar.sig_seed_changed.connect(self.schedule)
        self.grid = PreviewGrid()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.bar)
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
        self.picker.clear()
        self.picker.recipe_box.show_folder(None)  # the last folder's files say nothing about this one
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
            self.picker.recipe_box.show_folder(result[0])

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
        if task is None and recipe is not None:  # a folder's first run trains its recommended recipe
            task, self._pending_values = recipe.task, dict(recipe.task_args)
            self.sig_recipe_chosen.emit(recipe)
        self.picker.show_catalogue(catalogue, recipe, task)
        self.sig_catalogue_ready.emit(modality)

    @Slot(object)
    def use_recipe(self, recipe) -> None:
        """Choose the recipe's task with its settings (reset to the recipe's when it is already chosen); its
        budget goes to the Train step."""
        self._pending_values = dict(recipe.task_args)
        self.picker.choose(recipe.task)
        self.sig_recipe_chosen.emit(recipe)

    def current_task(self) -> str | None:
        return self.picker.current_task()

    @Slot(dict)
    def _on_task_chosen(self, entry: dict) -> None:
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
        generation, task, values, seed = self.generation, self.current_task(), self.form.values(), self.bar.seed.value()
        folder, inputs = self.folder, self.inputs
        root, modality, relpaths = folder
        try:
            spec = self.input_settings.spec()
        except UserError as error:
            self.error.setText(str(error))
            return
        self.busy, self.stale = True, False
        self.bar.say("rendering preview…" if inputs else
                     f"decoding {min(len(relpaths), POOL[modality])} samples for the preview…")

        def work(_state):
            made = inputs or preview_inputs(root, relpaths, modality, spec, wait=False)  # not behind the Data step
            return made, render(made, task, values, seed)

        job = self.jobs.start("preview", work, self)
        job.sig_done.connect(lambda result: self._on_rendered(generation, folder, spec, task, seed, result))
        job.sig_failed.connect(lambda message, details: self._on_failed(generation, message, details))
        job.sig_over.connect(self._on_over)

    def _on_rendered(self, generation: int, folder, spec, task: str, seed: int, result) -> None:
        inputs, (samples, ids) = result
        if folder is self.folder and spec == self._current_spec():
            self.inputs = inputs  # decoded once per folder and input settings; later previews reuse it
        if generation != self.generation:
            return
        self.error.clear()
        self.grid.show_samples(samples, names=ids)
        self.bar.say(f"{task}: {len(samples)} samples, exactly as training will make them (seed {seed})")

    def _on_failed(self, generation: int, message: str, details: str) -> None:
        if generation != self.generation:
            return
        if details:  # a bug: the full dialog
            show_error(self, message, details)
        self.error.setText(message)
        self.bar.say("no preview: fix the setting shown in red")

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
    from sslstudio.gui.panels import run_panel_alone, scanned

    def make(jobs, args):
        panel = TaskPanel(jobs)
        panel.set_folder(*scanned(args[:1]))
        return panel

    run_panel_alone(make)

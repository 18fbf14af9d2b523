"""The open project as every page reads it: one evented object that owns the core `Project`.

Pages receive it in their constructors, read what they show from it, and change it through its setters;
each setter marks the project unsaved and emits the signal of the part that changed, and every page that
shows that part follows (napari's evented model, ilastik's operators). No page keeps a copy of the labels
or the runs, and MainWindow only saves, loads and enables the steps from it.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from sslstudio.core.demo import default_runs_folder
from sslstudio.core.project import Project
from sslstudio.core.training.run_dir import RunDir


class ProjectState(QObject):
    sig_folder_changed = Signal()
    """The data folder or its modality changed."""
    sig_task_changed = Signal()
    """The task or its settings changed."""
    sig_inputs_changed = Signal()
    """The input settings changed."""
    sig_runs_changed = Signal()
    """A run was added, or one ended (its checkpoints changed)."""
    sig_labels_changed = Signal()
    """The labels made in the app changed."""
    sig_dirty_changed = Signal(bool)
    """The project has unsaved changes (True), or was just saved or opened (False)."""

    def __init__(self, project: Project | None = None, path: Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project or Project()
        self.path = path
        self.dirty = False
        self.replaying = False  # a presenter's replay opens a run's folder and task: nothing the user changed

    @classmethod
    def for_folder(cls, folder: Path, modality: str, task: str | None = None, runs: tuple = (),
                   parent: QObject | None = None) -> ProjectState:
        """A project on `folder` with these runs: a page opened alone, or a test."""
        state = cls(Project(folder=str(folder), modality=modality, task=task), parent=parent)
        for run in runs:
            state.project.add_run(run, task or "", "", None)
        return state

    # ---------------------------------------------------------------- reading
    @property
    def folder(self) -> Path | None:
        return Path(self.project.folder) if self.project.folder else None

    @property
    def modality(self) -> str | None:
        return self.project.modality

    @property
    def labels(self) -> dict[str, str]:
        return self.project.labels

    def runs_root(self) -> Path:
        """Where new runs go: beside the project file, or in the user's data folder before it is saved."""
        if self.path is not None:
            return self.path.parent / "runs"

        return default_runs_folder().parent / "runs"

    def run_paths(self) -> list[Path]:
        return self.project.run_paths(self.path)

    def trained_runs(self) -> list[Path]:
        """The runs with a checkpoint: what the Embeddings and Fine-tune pages can load."""
        return [path for path in self.run_paths() if RunDir(path).has_checkpoint()]

    # ---------------------------------------------------------------- changing
    def set_folder(self, folder: str, modality: str) -> None:
        if (self.project.folder, self.project.modality) == (folder, modality):
            return
        self.project.folder, self.project.modality = folder, modality
        self.project.inputs = {}  # another folder's sizes: proposed afresh from its files
        self._changed(self.sig_folder_changed)

    def set_task(self, task: str, values: dict) -> None:
        if (self.project.task, self.project.task_args) != (task, values):
            self.project.task, self.project.task_args = task, dict(values)
            self._changed(self.sig_task_changed)

    def set_inputs(self, values: dict, unsaved: bool = True) -> None:
        """`unsaved=False`: the values were only proposed for a project saved before inputs existed."""
        if self.project.inputs != values:
            self.project.inputs = dict(values)
            self._changed(self.sig_inputs_changed, unsaved)

    def add_run(self, path: str | Path, task: str) -> None:
        self.project.add_run(path, task, datetime.now().isoformat(timespec="seconds"), self.path)
        self._changed(self.sig_runs_changed)

    def runs_updated(self) -> None:
        """A run ended or saved a checkpoint: the lists of runs read them again."""
        self.sig_runs_changed.emit()

    def set_labels(self, labels: dict[str, str]) -> None:
        if labels != self.project.labels:
            self.project.labels = dict(labels)
            self._changed(self.sig_labels_changed)

    def replace(self, project: Project, path: Path | None) -> None:
        """Another project, new or opened: every part changed at once."""
        self.project, self.path = project, path
        self.set_saved(path)
        for signal in (self.sig_folder_changed, self.sig_task_changed, self.sig_inputs_changed,
                       self.sig_runs_changed, self.sig_labels_changed):
            signal.emit()

    def set_saved(self, path: Path | None) -> None:
        self.path, self.dirty = path, False
        self.sig_dirty_changed.emit(False)

    def _changed(self, signal, unsaved: bool = True) -> None:
        if unsaved and not self.dirty and not self.replaying:
            self.dirty = True
            self.sig_dirty_changed.emit(True)
        signal.emit()

"""The workbench window: a step bar, one page per step, menus, the project, the status bar.

Steps: Data -> Task & Preview -> Train -> Embeddings -> Fine-tune; a step is
enabled once its inputs exist. The project (core.project) is saved atomically,
autosaved every 30 s once it has a file, and remembered in the recent list.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from sslstudio.core.errors import UserError
from sslstudio.core.project import SUFFIX, Project, load_project, save_project
from sslstudio.gui import settings
from sslstudio.gui.about import about_text
from sslstudio.gui.app import apply_theme
from sslstudio.gui.errors import show_error
from sslstudio.gui.jobs import JobRunner
from sslstudio.gui.panels.data_panel import DataPanel
from sslstudio.gui.panels.embeddings_panel import EmbeddingsPanel
from sslstudio.gui.panels.finetune_panel import FinetunePanel
from sslstudio.gui.panels.task_panel import TaskPanel
from sslstudio.gui.panels.train_panel import TrainPanel
from sslstudio.gui.paths import display_path
from sslstudio.gui.presenter import Presenter, RunReplay
from sslstudio.gui.project_state import ProjectState
from sslstudio.resources import demo_folder

STEPS = (("data", "1  Data"), ("task", "2  Task && Preview"), ("train", "3  Train"),
         ("embeddings", "4  Embeddings"), ("finetune", "5  Fine-tune"))
AUTOSAVE_MS = 30_000
SMALLEST_SCREEN = QSize(1280, 800)  # a common laptop's: the whole window, its frame and status bar, fits on it
FRAME_ALLOWANCE = QSize(16, 48)  # a window manager's title bar and borders, with room to spare


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.state = ProjectState(parent=self)  # the open project, which every page reads
        self.jobs = JobRunner(self)
        self.stopped_on_quit: list[str] = []  # the jobs a close stopped, by name (it says so on stderr too)
        self.setAcceptDrops(True)
        self._build_pages()
        self.presenter = Presenter(self)
        self.replay: RunReplay | None = None
        self._build_menus()
        self._build_status_bar()
        self._autosave = QTimer(self, interval=AUTOSAVE_MS, timeout=self._autosave_now)
        self._autosave.start()
        self.state.sig_dirty_changed.connect(lambda _dirty: self._update_title())
        for signal in (self.state.sig_folder_changed, self.state.sig_task_changed, self.state.sig_runs_changed):
            signal.connect(self._update_steps)
        self._update_title()
        self._update_steps()
        self.resize(self.fitting_size())

    # ---------------------------------------------------------------- layout
    def fitting_size(self) -> QSize:
        """The initial size: the smallest screen's, or this screen's when smaller, less a window frame."""
        screen = self.screen().availableGeometry().size() if self.screen() else SMALLEST_SCREEN
        return screen.boundedTo(SMALLEST_SCREEN) - FRAME_ALLOWANCE

    def _build_pages(self) -> None:
        self.step_list = QListWidget()
        self.step_list.setObjectName("steps")
        self.step_list.setFixedWidth(190)
        self.step_list.setIconSize(QSize(20, 20))
        self.step_list.setStyleSheet("QListWidget#steps { font-size: 11pt; } "
                                     "QListWidget#steps::item { padding: 10px 8px; }")
        self.stack = QStackedWidget()
        state = self.state
        self.data_panel = DataPanel(self.jobs, state)
        self.data_panel.sig_folder_ready.connect(self._on_folder_ready)
        self.task_panel = TaskPanel(self.jobs)
        self.task_panel.sig_task_changed.connect(state.set_task)
        self.task_panel.sig_inputs_changed.connect(self._on_inputs_changed)
        self.train_panel = TrainPanel(self.jobs, state)
        self.task_panel.sig_recipe_chosen.connect(self.train_panel.apply_recipe)
        self.train_panel.settings.form.sig_changed.connect(
            lambda values: self.task_panel.input_settings.set_batch(values["batch_size"]))
        self.train_panel.sig_state.connect(lambda word: self.train_label.setText(f"training: {word}"))
        self.embeddings_panel = EmbeddingsPanel(self.jobs, state)
        self.finetune_panel = FinetunePanel(self.jobs, state)
        self.finetune_panel.sig_show_sample.connect(self._show_on_map)
        self.pages: dict[str, QWidget] = {
            "data": self.data_panel,
            "task": self.task_panel,
            "train": self.train_panel,
            "embeddings": self.embeddings_panel,
            "finetune": self.finetune_panel,
        }
        for key, title in STEPS:
            item = QListWidgetItem(title.replace("&&", "&"))
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.step_list.addItem(item)
            self.stack.addWidget(self.pages[key])
        self.step_list.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.step_list.setCurrentRow(0)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.step_list)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&New Project", QKeySequence.StandardKey.New, self.new_project)
        self._action(file_menu, "&Open Project…", QKeySequence.StandardKey.Open, self.open_project_dialog)
        self._action(file_menu, "Open &Folder…", "Ctrl+Shift+O", self.data_panel.choose_folder)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self._action(file_menu, "&Save Project", QKeySequence.StandardKey.Save, self.save)
        self._action(file_menu, "Save Project &As…", QKeySequence.StandardKey.SaveAs, self.save_as)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        go_menu = self.menuBar().addMenu("&Go")
        for row, (_, title) in enumerate(STEPS):
            self._action(go_menu, title.split("  ", 1)[1], f"Ctrl+{row + 1}",
                         lambda row=row: self.go_to_step(row))
        view_menu = self.menuBar().addMenu("&View")
        self.presenter_action = self._action(view_menu, "&Presenter", "F5", self.presenter.set_on)
        self.presenter_action.setCheckable(True)
        self.presenter_action.setToolTip("Large type, high contrast, full screen (F5; Esc leaves)")
        self.presenter.sig_changed.connect(self.presenter_action.setChecked)
        self._action(view_menu, "&Replay a Run…", "Shift+F5", self.replay_dialog)
        self._build_theme_menu(view_menu.addMenu("&Theme"))
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&About sslstudio", "F1", self.show_about)

    def _build_theme_menu(self, menu) -> None:
        group = QActionGroup(self)
        for name in settings.THEMES:
            action = menu.addAction(name.capitalize(), lambda name=name: self.set_theme(name))
            action.setCheckable(True)
            action.setChecked(name == settings.theme())
            group.addAction(action)

    def set_theme(self, name: str) -> None:
        settings.set_theme(name)
        apply_theme(name)
        self.statusBar().showMessage("theme changed: the plots follow when the workbench next starts", 8000)

    def _action(self, menu, text, shortcut, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_status_bar(self) -> None:
        self.device_label = QLabel("device: checking…")
        self.project_label = QLabel()
        self.job_label = QLabel("idle")
        self.train_label = QLabel("training: idle")
        for label in (self.project_label, self.job_label, self.train_label):
            label.setContentsMargins(8, 0, 8, 0)
        self.statusBar().addWidget(self.project_label, 1)
        self.statusBar().addPermanentWidget(self.train_label)
        self.statusBar().addPermanentWidget(self.job_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self.jobs.sig_busy_changed.connect(lambda busy: self.job_label.setText(busy or "idle"))

    # ---------------------------------------------------------------- startup
    def open_initial(self, target: Path | None, first_run_demo: bool = True) -> None:
        """After show: describe the device off the GUI thread, then open what was asked for."""
        QTimer.singleShot(0, self._describe_device)
        if target is not None and target.suffix == SUFFIX:
            self.open_project(target)
        elif target is not None:
            self.data_panel.open_folder(target)
        elif first_run_demo and settings.first_run():

            settings.mark_first_run_done()
            self.data_panel.open_folder(demo_folder("image"))

    @Slot()
    def _describe_device(self) -> None:
        def describe(_state):
            # Also warms torch's imports off the GUI thread, so the first preview or training run does not
            # freeze the window while they load.
            import sslstudio.core.training.session  # noqa: F401
            from sslstudio.core.training.device import (  # loads torch
                describe_device,
                resolve_device,
                warm_up_training_imports,
            )

            warm_up_training_imports()
            return describe_device(resolve_device("auto"))

        job = self.jobs.start("checking device", describe)
        job.sig_done.connect(lambda text: self.device_label.setText(text))
        job.sig_failed.connect(lambda message, _details: self.device_label.setText(f"device: {message}"))

    # ---------------------------------------------------------------- steps
    def go_to_step(self, row: int) -> None:
        if self.step_list.item(row).flags() & Qt.ItemFlag.ItemIsEnabled:
            self.step_list.setCurrentRow(row)

    @Slot()
    def _update_steps(self) -> None:
        project = self.state.project
        ready = {"data": True, "task": bool(project.folder and project.modality),
                 "train": bool(project.folder and project.modality and project.task),
                 "embeddings": bool(project.runs), "finetune": bool(project.runs)}
        for row, (key, _) in enumerate(STEPS):
            item = self.step_list.item(row)
            flags = item.flags()
            item.setFlags(flags | Qt.ItemFlag.ItemIsEnabled if ready[key] else flags & ~Qt.ItemFlag.ItemIsEnabled)

    @Slot(str, str)
    def _on_folder_ready(self, folder: str, modality: str) -> None:
        self.state.set_folder(folder, modality)
        settings.remember("folders", folder)
        scan, project = self.data_panel.scan, self.state.project
        self.train_panel.set_folder_size(len(scan.files[modality]) if scan else 0)
        self.train_panel.monitor.set_labelled(bool(scan) and len(set(scan.labels_of(modality)) - {None}) >= 2)
        self.task_panel.set_folder(Path(folder), modality, scan.files[modality] if scan else [],
                                   project.task, project.task_args, project.inputs)

    @Slot(dict)
    def _on_inputs_changed(self, values: dict) -> None:
        # Values proposed for a project saved before input settings existed change nothing worth saving.
        proposed_for_an_older_project = not self.state.project.inputs and self.state.path is not None
        self.state.set_inputs(values, unsaved=not proposed_for_an_older_project)

    @Slot(str)
    def _show_on_map(self, sample_id: str) -> None:
        self.go_to_step([key for key, _ in STEPS].index("embeddings"))
        if not self.embeddings_panel.open_id(sample_id):
            self.statusBar().showMessage("Map the folder (Extract & map) to see this sample among its neighbours",
                                         5000)

    # ---------------------------------------------------------------- project
    def _update_title(self) -> None:
        path = self.state.path
        name = path.name if path else "Untitled project"
        self.setWindowTitle(f"{name}{' *' if self.state.dirty else ''} — sslstudio")
        where = display_path(path) if path else "not saved yet"
        self.project_label.setText(f"project: {where}")

    def new_project(self) -> None:
        if not self._settle_unsaved():
            return
        self._set_project(Project(), None)

    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", f"sslstudio projects (*{SUFFIX})")
        if path:
            self.open_project(Path(path))

    def open_project(self, path: Path) -> bool:
        if not self._settle_unsaved():
            return False
        try:
            project = load_project(path)
        except UserError as error:
            show_error(self, str(error))
            return False
        self._set_project(project, path)
        settings.remember("projects", path)
        if project.folder:
            self.data_panel.open_folder(Path(project.folder), project.modality)
        return True

    def _set_project(self, project: Project, path: Path | None) -> None:
        self.state.replace(project, path)
        if project.folder is None:
            self.data_panel.clear()

    def save(self) -> bool:
        if self.state.path is None:
            return self.save_as()
        return self._write(self.state.path)

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save project", "project" + SUFFIX,
                                              f"sslstudio projects (*{SUFFIX})")
        return bool(path) and self._write(Path(path))

    def _write(self, path: Path) -> bool:
        try:
            saved = save_project(self.state.project, path)
        except OSError as error:
            show_error(self, f"could not save the project to {path}: {error.strerror or error}")
            return False
        self.state.set_saved(saved)
        settings.remember("projects", saved)
        return True

    @Slot()
    def _autosave_now(self) -> None:
        if self.state.dirty and self.state.path is not None:
            self._write(self.state.path)

    def _settle_unsaved(self) -> bool:
        """True when it is fine to drop the current project (saved, or the user said so)."""
        if not self.state.dirty:
            return True
        answer = QMessageBox.question(
            self, "Unsaved project", "Save the current project first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for kind, opener in (("projects", self.open_project), ("folders", self.data_panel.open_folder)):
            for item in settings.recent(kind):
                self.recent_menu.addAction(item, lambda item=item, opener=opener: opener(Path(item)))
            self.recent_menu.addSeparator()

    # ---------------------------------------------------------------- desktop
    @Slot()
    def replay_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Replay a finished run", str(self.state.runs_root()))
        if folder:
            self.present(Path(folder))

    def present(self, run: Path, seconds: float = 30.0) -> RunReplay | None:
        """Presenter mode, and `run` replayed in about `seconds`: its curves, live outputs and map time-lapse."""
        if self.train_panel.is_running():
            show_error(self, "A run is training: stop it before replaying another (the replay uses the Train page).")
            return None
        try:
            self.replay = RunReplay(self, run, seconds)
        except UserError as error:
            show_error(self, str(error))
            return None
        self.replay.start()  # the run's folder and task first, then the presenter's look over the pages they fill
        self.presenter.set_on(True)
        return self.replay

    def show_about(self) -> None:
        QMessageBox.about(self, "About sslstudio", about_text())

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        urls = event.mimeData().urls()
        if len(urls) == 1 and urls[0].isLocalFile():
            path = Path(urls[0].toLocalFile())
            if path.is_dir() or path.suffix == SUFFIX:
                event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        path = Path(event.mimeData().urls()[0].toLocalFile())
        if path.suffix == SUFFIX:
            self.open_project(path)
        else:
            self.go_to_step(0)
            self.data_panel.open_folder(path)
        event.acceptProposedAction()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.train_panel.is_running():
            answer = QMessageBox.question(self, "Training is running",
                                          "Stop training and quit? A checkpoint is saved first, so the run "
                                          "can be resumed later.")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        if not self._settle_unsaved():
            event.ignore()
            return
        self.stopped_on_quit = self.jobs.stop_all()  # results still on their way no longer reach the pages
        # The window goes now: a job ends at its next check, which may come after a long library call (a probe's
        # fit, a map's), and training first saves its checkpoint. Waiting for them is the process's, unseen.
        self.hide()
        QApplication.processEvents()
        if self.stopped_on_quit:
            print(f"sslstudio: stopped {', '.join(self.stopped_on_quit)}"
                  + (" (training saves a checkpoint first)" if self.train_panel.is_running() else ""),
                  file=sys.stderr, flush=True)
        self.train_panel.shutdown()
        self.embeddings_panel.shutdown()
        if not self.jobs.wait_all(60_000):
            # A job that did not stop in a minute is inside one long library call. Qt aborts the process
            # when a running thread is destroyed at exit; end it here instead, the project already settled.
            QSettings().sync()
            os._exit(0)
        self.data_panel.shutdown()
        event.accept()

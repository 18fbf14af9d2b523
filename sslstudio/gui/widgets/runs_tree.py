"""The project's runs, each with its kept checkpoints: tick runs to compare, pick one to resume."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from sslstudio.core.training.run_dir import RunDir

RUN_ROLE = Qt.ItemDataRole.UserRole
CHECKPOINT_ROLE = Qt.ItemDataRole.UserRole + 1


class RunsTree(QTreeWidget):
    sig_run_chosen = Signal(str)  # a run (or one of its checkpoints) became current: its folder
    sig_ticked_changed = Signal(list)  # [(name, run folder)] of the ticked runs, to overlay

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderLabels(["run", "steps"])
        header = self.header()  # the name takes what the steps leave, at any type size (presenter mode)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a run's date and time, at its end, stay readable
        self.setToolTip("Runs of this project. Tick a run to overlay its loss; pick a checkpoint to resume it")
        self._running: QTreeWidgetItem | None = None  # the item of the run that trains now
        self._running_word = "running"  # or "paused"
        self.currentItemChanged.connect(self._on_current)
        self.itemChanged.connect(self._on_ticked)

    def show_runs(self, runs: list[Path], running: Path | None = None) -> None:
        """The runs with their checkpoints; the `running` one is listed from its start, before its folder
        holds anything, and says so."""
        self.blockSignals(True)
        self.clear()
        self._running: QTreeWidgetItem | None = None
        for path in runs:
            run_dir = RunDir(path)
            is_running = running is not None and Path(path).resolve() == Path(running).resolve()
            if not run_dir.config_path.is_file() and not is_running:
                continue
            checkpoints = run_dir.checkpoints()
            steps = str(trained_steps(run_dir, checkpoints))
            item = QTreeWidgetItem([path.name, f"{steps} ({self._running_word})" if is_running else steps])
            if is_running:
                self._running = item
            item.setData(0, RUN_ROLE, str(path))
            item.setToolTip(0, path.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            for step, checkpoint in reversed(checkpoints):
                child = QTreeWidgetItem([f"checkpoint at step {step}", str(step)])
                child.setData(0, RUN_ROLE, str(path))
                child.setData(0, CHECKPOINT_ROLE, str(checkpoint))
                item.addChild(child)
            self.addTopLevelItem(item)
        self.blockSignals(False)

    def show_step(self, step: int) -> None:
        """The running run's latest step, as it trains."""
        if self._running is not None:
            self._running.setText(1, f"{step} ({self._running_word})")

    def set_paused(self, paused: bool) -> None:
        self._running_word = "paused" if paused else "running"
        if self._running is not None:
            steps = self._running.text(1).split(" ", 1)[0]
            self._running.setText(1, f"{steps} ({self._running_word})")

    def chosen(self) -> tuple[Path, str | None] | None:
        """The current run and checkpoint file (None: the run's last), or None when nothing is picked."""
        item = self.currentItem()
        if item is None:
            return None
        return Path(item.data(0, RUN_ROLE)), item.data(0, CHECKPOINT_ROLE)

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_current(self, item: QTreeWidgetItem | None, _previous) -> None:
        if item is not None:
            self.sig_run_chosen.emit(item.data(0, RUN_ROLE))

    @Slot(QTreeWidgetItem, int)
    def _on_ticked(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.parent() is not None:
            return
        ticked = []
        for n in range(self.topLevelItemCount()):
            run = self.topLevelItem(n)
            if run.checkState(0) == Qt.CheckState.Checked:
                ticked.append((run.text(0), run.data(0, RUN_ROLE)))
        self.sig_ticked_changed.emit(ticked)


def trained_steps(run_dir: RunDir, checkpoints: list[tuple[int, Path]]) -> int:
    """How far a run trained: its newest checkpoint, or its last logged step when that is later (a run that is
    still training). A run stopped between two logged steps (a time budget, Stop) saves its last step, so the
    metrics alone would say less than the checkpoint listed under it."""
    return max([run_dir.last_logged_step(), *(step for step, _ in checkpoints[-1:])])

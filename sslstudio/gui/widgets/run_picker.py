"""Which model to use: a training run of the project and one of its kept checkpoints.

The Embeddings and Fine-tune pages both ask this, and should ask it the same way.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QWidget

from sslstudio.core.training.run_dir import RunDir


class RunPicker(QWidget):
    sig_changed = Signal()

    def __init__(self, run_tip: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.run_box = QComboBox(toolTip=run_tip)
        self.checkpoint_box = QComboBox(toolTip="Which of the run's checkpoints: the last, or any kept one")
        self.run_box.currentIndexChanged.connect(self._fill_checkpoints)
        self.checkpoint_box.currentIndexChanged.connect(lambda _: self.sig_changed.emit())
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("run", self.run_box)
        form.addRow("checkpoint", self.checkpoint_box)

    def set_runs(self, runs: list[Path]) -> None:
        """List these runs, keeping the chosen one when it is still there, else choosing the newest."""
        current = self.run_box.currentData()
        self.run_box.blockSignals(True)
        self.run_box.clear()
        for run in runs:
            self.run_box.addItem(run.name, str(run))
        self.run_box.blockSignals(False)
        index = self.run_box.findData(current)
        self.run_box.setCurrentIndex(index if index >= 0 else self.run_box.count() - 1)
        self._fill_checkpoints()

    @Slot()
    def _fill_checkpoints(self) -> None:
        self.checkpoint_box.blockSignals(True)
        self.checkpoint_box.clear()
        run = self.run_box.currentData()
        if run:
            self.checkpoint_box.addItem("last", None)
            for step, path in reversed(RunDir(run).checkpoints()):
                self.checkpoint_box.addItem(f"step {step}", str(path))
        self.checkpoint_box.blockSignals(False)
        self.sig_changed.emit()

    def run(self) -> Path | None:
        run = self.run_box.currentData()
        return Path(run) if run else None

    def checkpoint(self) -> str | None:
        """The chosen checkpoint file, or None for the run's last."""
        return self.checkpoint_box.currentData()

    def checkpoint_count(self) -> int:
        return self.checkpoint_box.count()

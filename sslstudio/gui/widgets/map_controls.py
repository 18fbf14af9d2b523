"""The Embeddings page's controls: which run and checkpoint, the map's settings, what the colours show, the
time-lapse slider, labelling of a selection, and the legend.

Self-contained: the buttons and choices go out as signals; the page says when it is busy (`show_busy`), which
phase of a job runs (`show_phase`, `show_progress`: the phase's name, its progress or a busy bar, and the time
it has taken) and how many time-lapse frames there are (`show_frames`), and asks for the colours of what a
MapSession holds (`colours_for`, which also writes the legend).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from sslstudio.core.embeddings.map_session import COLOUR_BY, MapSession
from sslstudio.core.embeddings.projection import Phase, ProjectionSettings
from sslstudio.core.progress import duration
from sslstudio.gui.widgets.args_form import ArgsForm
from sslstudio.gui.widgets.run_picker import RunPicker
from sslstudio.gui.widgets.scatter import categorical, ramp
from sslstudio.gui.widgets.selection_labeller import SelectionLabeller


class MapControls(QWidget):
    sig_map = Signal()
    """Extract and map was pressed."""
    sig_timelapse = Signal()
    sig_cancel = Signal()
    sig_colour_changed = Signal()
    sig_settings_changed = Signal(dict)
    """The map's settings (ProjectionSettings' fields) changed."""
    sig_frame = Signal(int)
    """The time-lapse frame to show."""
    sig_label = Signal(str)
    """Give the selection this class."""
    sig_export = Signal()
    """Export map... was pressed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = RunPicker("The training run whose model maps the samples")
        self.map_form = ArgsForm()  # generated from ProjectionSettings' schema
        self.map_form.set_schema(ProjectionSettings.schema())
        self.map_form.layout_.setContentsMargins(0, 0, 0, 0)
        self.map_form.sig_changed.connect(self.sig_settings_changed)
        self.colour_box = QComboBox(toolTip="What the colours show")
        self.colour_box.addItems(COLOUR_BY)
        self.colour_box.currentIndexChanged.connect(lambda _: self.sig_colour_changed.emit())
        self.map_button = QPushButton("Extract && map", toolTip="Embed every sample with this checkpoint "
                                                               "(cached), then draw the 2-D map")
        self.map_button.clicked.connect(self.sig_map)
        self.cancel_button = QPushButton("Cancel", toolTip="Stop the running extraction")
        self.cancel_button.clicked.connect(self.sig_cancel)
        self.cancel_button.clicked.connect(self.show_cancelling)
        self.progress = QProgressBar()
        self.note = QLabel(wordWrap=True)
        self.phase: Phase | None = None
        self._phase_started = 0.0
        self._clock = QTimer(self, interval=1000, timeout=self._show_phase_text)  # the phase's elapsed time
        self.timelapse_button = QPushButton("Time-lapse", toolTip="Map every kept checkpoint, aligned to the "
                                                                  "last, and play them with the slider")
        self.timelapse_button.clicked.connect(self.sig_timelapse)
        self.export_button = QPushButton("Export map…", toolTip="Write ids, files, labels, x, y and the embeddings "
                                                               "as npz, csv or parquet (FiftyOne, Embedding "
                                                               "Atlas, pandas, Spotfire)", enabled=False)
        self.export_button.clicked.connect(self.sig_export)
        self.slider = QSlider(Qt.Orientation.Horizontal, toolTip="Checkpoint shown, oldest on the left",
                              enabled=False)
        self.slider.valueChanged.connect(self.sig_frame)
        self.labeller = SelectionLabeller()
        self.labeller.sig_label.connect(self.sig_label)
        self.legend = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)

        form = QFormLayout()
        form.addRow(self.map_form)
        form.addRow("colour by", self.colour_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.map_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addLayout(form)
        layout.addLayout(buttons)
        for widget in (self.progress, self.note, self.timelapse_button, self.slider, self.export_button,
                       self.labeller, self.legend):
            layout.addWidget(widget)
        layout.addStretch(1)

    def show_busy(self, running: bool, mapped: bool = False) -> None:
        self.export_button.setEnabled(mapped and not running)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        for widget in (self.map_button, self.timelapse_button):
            widget.setEnabled(not running)
        if not running:
            self.phase = None
            self._clock.stop()

    def show_phase(self, phase: Phase) -> None:
        """A job's next phase began: its name and elapsed time in the status line, a busy bar until it reports."""
        self.phase, self._phase_started = phase, time.monotonic()
        self.progress.setRange(0, 0)
        self._show_phase_text()
        self._clock.start()

    def show_progress(self, done: int, total: int) -> None:
        """The running phase's progress; a busy bar while its total is unknown."""
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)

    def show_cancelling(self) -> None:
        if self.phase is not None and not self.phase.stoppable:
            self.note.setText(f"Stopping once {self.phase.name} is over: this phase cannot be interrupted.")
            self._clock.stop()

    @Slot()
    def _show_phase_text(self) -> None:
        if self.phase is None:
            return
        name = self.phase.name[0].upper() + self.phase.name[1:]
        waits = "" if self.phase.stoppable else " (Cancel waits for this phase to end)"
        self.note.setText(f"{name}… {duration(time.monotonic() - self._phase_started)}{waits}")

    def ask_export_path(self) -> Path | None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Export map", "map.parquet",
                                                "Parquet (*.parquet);;CSV (*.csv);;NumPy (*.npz)")
        return Path(chosen) if chosen else None

    def map_settings(self) -> ProjectionSettings:
        return ProjectionSettings.from_mapping(self.map_form.values())

    def colour_mode(self) -> str:
        return self.colour_box.currentText()

    def show_frames(self, count: int) -> None:
        """A time-lapse of `count` frames was made: the slider shows the last and plays them."""
        self.slider.setRange(0, count - 1)
        self.slider.setValue(count - 1)
        self.slider.setEnabled(count > 1)
        self.note.setText(f"{count} checkpoints, each map aligned onto the last: drag the slider.")

    def colours_for(self, session: MapSession) -> np.ndarray:
        """The colours for the chosen mode from what the session has computed (by label until the rest is
        ready); the legend follows."""
        mode = self.colour_mode()
        if mode == "confidence" and session.probe is not None:
            self.legend.setText("confidence of the probe's prediction: blue low, orange high")
            return ramp(session.probe.confidence)
        if mode == "cluster" and session.clusters is not None:
            colours, legend = categorical(session.clusters.astype(str), session.cluster_colours, "cluster ")
        elif mode == "predicted class" and session.probe is not None:
            colours, legend = categorical(session.probe.predicted, session.class_colours)
        else:
            colours, legend = categorical(session.labels(), session.class_colours)
        self.legend.setText(legend)
        return colours

"""The Embeddings page's controls: which run and checkpoint, the map's settings, what the colours show, the
time-lapse slider, labelling of a selection, and the legend.

Self-contained: the buttons and choices go out as signals; the page says when it is busy (`show_busy`) and
how many time-lapse frames there are (`show_frames`), and asks for the colours of what a MapSession holds
(`colours_for`, which also writes the legend). The page's jobs (gui/jobs.py `PageJobs`) show each phase, its
progress and its time in `note` and `progress`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
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
from sslstudio.core.embeddings.projection import ProjectionSettings
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
        self.progress = QProgressBar()
        self.note = QLabel(wordWrap=True)  # the page's jobs write each phase, its progress and time here
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

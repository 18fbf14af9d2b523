"""The Embeddings step: map every sample with a run's checkpoint, look around, and label by selection.

Extraction, projection, clustering and probe fits run as background jobs; the map
is a rasterised scatter (widgets/scatter.py). Hover shows the sample, a click opens
it with its nearest neighbours (cosine, in the embedding space, not the 2-D map),
Shift-drag selects a rectangle and Ctrl-drag a lasso, and a selection can be given
a class. Labels made here live in the project and colour the map at once.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sslstudio.core.embeddings.cache import embed_folder
from sslstudio.core.embeddings.map_session import COLOUR_BY, MapSession
from sslstudio.core.embeddings.neighbours import kmeans_clusters
from sslstudio.core.embeddings.projection import ProjectionSettings, project, timelapse
from sslstudio.core.errors import UserError
from sslstudio.core.evaluation.active import fit_probe
from sslstudio.core.training.run_dir import RunDir
from sslstudio.gui.jobs import JobRunner, PageJobs
from sslstudio.gui.project_state import ProjectState
from sslstudio.gui.widgets.args_form import ArgsForm
from sslstudio.gui.widgets.run_picker import RunPicker
from sslstudio.gui.widgets.sample_inspector import SampleInspector
from sslstudio.gui.widgets.scatter import ScatterView, categorical, ramp
from sslstudio.gui.widgets.selection_labeller import SelectionLabeller


class EmbeddingsPanel(QWidget):
    sig_mapped = Signal(int)  # points on the map

    def __init__(self, jobs: JobRunner, state: ProjectState, parent: QWidget | None = None):
        super().__init__(parent)
        self.jobs = jobs
        self.state = state
        self.session = MapSession()  # what the map shows and what each change makes stale (core, Qt-free)
        self._recolour_when_idle = False
        self._build()

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self.picker = RunPicker("The training run whose model maps the samples")
        self.map_form = ArgsForm()  # the map's settings, generated from ProjectionSettings' schema
        self.map_form.set_schema(ProjectionSettings.schema())
        self.map_form.layout_.setContentsMargins(0, 0, 0, 0)
        self.map_form.sig_changed.connect(self._on_map_settings)
        self.method_box = self.map_form.editors["method"]
        self.map_button = QPushButton("Extract && map", toolTip="Embed every sample with this checkpoint "
                                                               "(cached), then draw the 2-D map")
        self.map_button.clicked.connect(self.extract_and_map)
        self.cancel_button = QPushButton("Cancel", toolTip="Stop the running extraction")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.note = QLabel(wordWrap=True)
        self.colour_box = QComboBox(toolTip="What the colours show")
        self.colour_box.addItems(COLOUR_BY)
        self.colour_box.currentIndexChanged.connect(self.recolour)
        self.timelapse_button = QPushButton("Time-lapse", toolTip="Map every kept checkpoint, aligned to the "
                                                                  "last, and play them with the slider")
        self.timelapse_button.clicked.connect(self.build_timelapse)
        self.slider = QSlider(Qt.Orientation.Horizontal, toolTip="Checkpoint shown, oldest on the left")
        self.slider.valueChanged.connect(self._show_frame)
        self.slider.setEnabled(False)
        self.labeller = SelectionLabeller()
        self.labeller.sig_label.connect(lambda name: self.assign_selection(name))
        self.class_box = self.labeller.class_box
        self.legend = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)

        form = QFormLayout()
        form.addRow(self.map_form)
        form.addRow("colour by", self.colour_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.map_button)
        buttons.addWidget(self.cancel_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.picker)
        left_layout.addLayout(form)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.note)
        left_layout.addWidget(self.timelapse_button)
        left_layout.addWidget(self.slider)
        left_layout.addWidget(self.labeller)
        left_layout.addWidget(self.legend)
        left_layout.addStretch(1)

        self.scatter = ScatterView()
        self.scatter.sig_hovered.connect(self._on_hover)
        self.scatter.sig_clicked.connect(self.open_sample)
        self.scatter.sig_selected.connect(lambda rows: self.labeller.show_selected(len(rows)))
        self.inspector = SampleInspector()
        self.inspector.sig_open.connect(self.open_sample)

        splitter = QSplitter()
        for widget in (left, self.scatter, self.inspector):
            splitter.addWidget(widget)
        splitter.setSizes([260, 700, 320])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.work = PageJobs(self.jobs, self, self.note, self.progress)
        self.work.sig_busy_changed.connect(self._show_busy)
        self._show_busy(False)
        for signal in (self.state.sig_folder_changed, self.state.sig_runs_changed):
            signal.connect(self._on_context)
        self.state.sig_labels_changed.connect(self._on_labels)
        self._on_context()

    # ---------------------------------------------------------------- context
    @Slot()
    def _on_context(self) -> None:
        if self.state.folder is not None:
            self.session.set_folder(self.state.folder)
        self.picker.set_runs(self.state.trained_runs())
        self._on_labels()
        self._update_classes()

    # ---------------------------------------------------------------- jobs
    @Slot(bool)
    def _show_busy(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        for widget in (self.map_button, self.timelapse_button):
            widget.setEnabled(not running)
        if not running and self._recolour_when_idle:
            self._recolour_when_idle = False
            self.recolour()

    @Slot()
    def cancel(self) -> None:
        self.work.cancel()

    @Slot()
    def extract_and_map(self) -> None:
        run, folder = self.picker.run(), self.state.folder
        if not run or folder is None or self.work.busy:
            return
        checkpoint = self.picker.checkpoint()
        method, cap = self._map_settings()

        def work(state):
            samples, embeddings = embed_folder(run, folder, checkpoint, progress=state)
            return samples, embeddings, project(embeddings.vectors, method, cap)

        self.work.start("embedding", work, self._on_mapped, says="Embedding every sample…")

    def _on_mapped(self, result) -> None:
        samples, embeddings, projection = result
        self.session.set_map(samples, embeddings, projection.coords)
        self.slider.setEnabled(False)
        self.note.setText(projection.note or f"{len(projection.coords):,} samples mapped with "
                          f"{self.method_box.currentText()} ({embeddings.checkpoint}).")
        self.scatter.set_points(projection.coords, self._colours())
        # Colouring by cluster or prediction needs a job of its own, which can start once this one is over.
        self._recolour_when_idle = self.colour_box.currentText() != "label"
        self._update_classes()
        self.sig_mapped.emit(len(projection.coords))

    @Slot()
    def build_timelapse(self) -> None:
        run, folder = self.picker.run(), self.state.folder
        if not run or folder is None or self.work.busy:
            return

        checkpoints = [path for _, path in RunDir(run).checkpoints()] + [None]
        method, cap = self._map_settings()

        def work(state):
            vectors, samples = [], None  # every checkpoint of a run reads the same decoded samples
            for checkpoint in checkpoints:
                samples, embeddings = embed_folder(run, folder, checkpoint, progress=state, samples=samples)
                vectors.append(embeddings.vectors)
            return [frame.coords for frame in timelapse(vectors, method, cap)]

        def done(frames):
            self.session.frames = frames
            self.slider.setRange(0, len(frames) - 1)
            self.slider.setValue(len(frames) - 1)
            self.slider.setEnabled(len(frames) > 1)
            self.note.setText(f"{len(frames)} checkpoints, each map aligned onto the last: drag the slider.")

        self.work.start("time-lapse", work, done, says=f"Mapping {len(checkpoints)} checkpoints…")

    @Slot(int)
    def _show_frame(self, index: int) -> None:
        frames = self.session.frames
        if frames and 0 <= index < len(frames) and self.session.mapped:
            self.scatter.set_points(frames[index], self._colours(), keep_view=True)
            self.scatter.select(self.scatter.selected_rows())

    # ---------------------------------------------------------------- colours
    def _colours(self) -> np.ndarray:
        """The colours for the chosen mode from what is computed (by label until the rest is ready); the
        legend follows."""
        mode, session = self.colour_box.currentText(), self.session
        if mode == "confidence" and session.probe is not None:
            self.legend.setText("confidence of the probe's prediction: blue low, orange high")
            return ramp(session.probe.confidence)
        if mode == "cluster" and session.clusters is not None:
            colours, legend = categorical(session.clusters.astype(str), "cluster ")
        elif mode == "predicted class" and session.probe is not None:
            colours, legend = categorical(session.probe.predicted)
        else:
            colours, legend = categorical(session.labels())
        self.legend.setText(legend)
        return colours

    def _compute(self, needed: str) -> None:
        """Cluster, or fit the probe on the labels, in the background; recolour when it is done."""
        session = self.session
        if self.work.busy:
            return
        vectors = session.embeddings.vectors
        if needed == "clusters":
            k = self.map_form.values()["clusters"]

            def work(_state):
                return kmeans_clusters(vectors, k)

            self.work.start("clustering", work, lambda clusters: (session.set_clusters(clusters, k), self.recolour()))
            return
        try:
            labelled, classes = session.probe_rows()
        except UserError as error:
            self.note.setText(str(error))
            return

        def fit(_state):
            return fit_probe(vectors, labelled, classes)

        self.work.start("fitting probe", fit, lambda probe: (setattr(session, "probe", probe), self.recolour()))

    @Slot()
    def recolour(self) -> None:
        """Colour the map by the chosen mode, clustering or fitting the probe first when that is missing."""
        if not self.session.mapped:
            return
        needed = self.session.needs(self.colour_box.currentText())
        if needed:
            self._compute(needed)  # recolours again when it is done
        self.scatter.set_colours(self._colours())

    def _map_settings(self) -> tuple[str, int | None]:
        chosen = ProjectionSettings.from_mapping(self.map_form.values())
        return chosen.method, chosen.cap

    @Slot(dict)
    def _on_map_settings(self, values: dict) -> None:
        if self.session.set_cluster_count(values["clusters"]) and self.colour_box.currentText() == "cluster":
            self.recolour()

    # ---------------------------------------------------------------- samples
    @Slot(int)
    def _on_hover(self, row: int) -> None:
        if self.session.mapped:
            self.inspector.show_hover(self.session.samples, row, self.session.labels())

    @Slot(int)
    def open_sample(self, row: int) -> None:
        """Show the sample (playable audio included) and its nearest neighbours in embedding space."""
        session = self.session
        if session.mapped and 0 <= row < len(session.samples.ids):
            self.inspector.open(session.samples, row, session.labels(), session.index)

    def open_id(self, sample_id: str) -> bool:
        """Open and select a sample by id, once the folder is mapped (False when it is not)."""
        if not self.session.mapped or sample_id not in self.session.samples.ids:
            return False
        row = self.session.samples.ids.index(sample_id)
        self.open_sample(row)
        self.scatter.select(np.array([row]))
        return True

    # ---------------------------------------------------------------- labelling
    def _update_classes(self) -> None:
        self.labeller.set_classes(self.session.classes())

    @Slot()
    def _on_labels(self) -> None:
        """The labels made in the app (here or on the Fine-tune page) changed: recolour, refit later."""
        if not self.session.set_app_labels(self.state.labels):  # predictions refit on the next look
            return
        self._update_classes()
        self.recolour()

    @Slot()
    def assign_selection(self, name: str = "") -> None:
        rows = self.scatter.selected_rows()
        name = (name or self.class_box.currentText()).strip()
        if not self.session.mapped or not len(rows) or not name:
            return
        self.state.set_labels(self.session.label(rows, name))
        self._update_classes()
        self.recolour()
        self.note.setText(f"{len(rows):,} samples labelled {name!r}; the project keeps it.")

    def shutdown(self) -> None:
        self.inspector.shutdown()


if __name__ == "__main__":  # a manual look: python -m sslstudio.gui.panels.embeddings_panel [RUN [FOLDER]]
    from sslstudio.gui.panels import run_panel_alone

    run_panel_alone(EmbeddingsPanel)

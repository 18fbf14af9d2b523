"""The Embeddings step: map every sample with a run's checkpoint, look around, and label by selection.

Extraction, projection, clustering and probe fits run as background jobs, each
naming its phases as they start (decoding, embedding, fitting the map, placing
the rest, clustering) with their progress; the map is a rasterised scatter
(widgets/scatter.py). Hover shows the sample, a click opens it with its nearest
neighbours (cosine, in the embedding space, not the 2-D map), Shift-drag selects
a rectangle and Ctrl-drag a lasso, and a selection can be given a class.
Labels made here live in the project and colour the map at once.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QWidget

from sslstudio.core.embeddings.cache import embed_every_checkpoint, embed_folder
from sslstudio.core.embeddings.map_session import MapSession
from sslstudio.core.embeddings.neighbours import kmeans_clusters
from sslstudio.core.embeddings.projection import NAMES, project, timelapse
from sslstudio.core.errors import UserError
from sslstudio.core.evaluation.active import fit_probe
from sslstudio.core.progress import Control, Phase, Progress
from sslstudio.gui.jobs import JobRunner, PageJobs
from sslstudio.gui.project_state import ProjectState
from sslstudio.gui.widgets.map_controls import MapControls
from sslstudio.gui.widgets.sample_inspector import SampleInspector
from sslstudio.gui.widgets.scatter import ScatterView


class EmbeddingsPanel(QWidget):
    sig_mapped = Signal(int)  # points on the map
    sig_exported = Signal(str)  # the file the map was written to
    sig_timelapse_ready = Signal(int)  # frames of the time-lapse
    sig_phase = Signal(str)  # a job's next phase began: its name

    def __init__(self, jobs: JobRunner, state: ProjectState, parent: QWidget | None = None):
        super().__init__(parent)
        self.jobs = jobs
        self.state = state
        self.session = MapSession()  # what the map shows and what each change makes stale (core, Qt-free)
        self._recolour_when_idle = False
        self._build()

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self.controls = MapControls()
        self.controls.sig_map.connect(self.extract_and_map)
        self.controls.sig_timelapse.connect(self.build_timelapse)
        self.controls.sig_cancel.connect(self.cancel)
        self.controls.sig_colour_changed.connect(self.recolour)
        self.controls.sig_settings_changed.connect(self._on_map_settings)
        self.controls.sig_frame.connect(self._show_frame)
        self.controls.sig_label.connect(lambda name: self.assign_selection(name))
        self.controls.sig_export.connect(self.export_map)
        self.picker = self.controls.picker

        self.scatter = ScatterView()
        self.scatter.sig_hovered.connect(self._on_hover)
        self.scatter.sig_clicked.connect(self.open_sample)
        self.scatter.sig_selected.connect(lambda rows: self.controls.labeller.show_selected(len(rows)))
        self.inspector = SampleInspector()
        self.inspector.sig_open.connect(self.open_sample)

        splitter = QSplitter()
        for widget in (self.controls, self.scatter, self.inspector):
            splitter.addWidget(widget)
        splitter.setSizes([260, 640, 360])  # the inspector: three columns of neighbours
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.work = PageJobs(self.jobs, self, self.controls.note, self.controls.progress)
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
        self.controls.show_busy(running, self.session.mapped)
        if not running and self._recolour_when_idle:
            self._recolour_when_idle = False
            self.recolour()

    @Slot()
    def cancel(self) -> None:
        self.work.cancel()

    def _start(self, name: str, work, on_done, first: str, stoppable: bool = True) -> None:
        """Run `work(state)` as the page's job: it starts in phase `first` and may start later ones
        (core/progress.py `start_phase`); the page's jobs show each with its progress or a busy bar."""
        def phased(state: Control):
            state.start_phase(first, stoppable=stoppable)
            return work(state)

        job = self.work.start(name, phased, on_done)
        job.sig_partial.connect(self._on_phase)

    @Slot(object)
    def _on_phase(self, phase) -> None:
        if isinstance(phase, Phase):
            self.sig_phase.emit(phase.name)

    @Slot()
    def extract_and_map(self) -> None:
        run, folder = self.picker.run(), self.state.folder
        if not run or folder is None or self.work.busy:
            return
        checkpoint, chosen = self.picker.checkpoint(), self.controls.map_settings()

        def work(state):
            samples, embeddings = embed_folder(run, folder, checkpoint, decode_progress=state,
                                               progress=_announcing(state, "embedding every sample"))
            return samples, embeddings, project(embeddings.vectors, chosen.method, chosen.cap, progress=state)

        self._start("embedding", work, self._on_mapped, "decoding the folder")

    def _on_mapped(self, result) -> None:
        samples, embeddings, projection = result
        self.session.set_map(samples, embeddings, projection.coords)
        self.controls.slider.setEnabled(False)
        self.controls.note.setText(projection.note or f"{len(projection.coords):,} samples mapped with "
                                   f"{NAMES[projection.method]} ({embeddings.checkpoint}).")
        self.scatter.set_points(projection.coords, self.controls.colours_for(self.session))
        # Colouring by cluster or prediction needs a job of its own, which can start once this one is over.
        self._recolour_when_idle = self.controls.colour_mode() != "label"
        self._update_classes()
        self.sig_mapped.emit(len(projection.coords))

    @Slot()
    def build_timelapse(self) -> None:
        run, folder = self.picker.run(), self.state.folder
        if not run or folder is None or self.work.busy:
            return
        chosen, count = self.controls.map_settings(), self.picker.checkpoint_count()

        def work(state):
            vectors = embed_every_checkpoint(run, folder, _announcing(state, f"embedding with {count} checkpoints"))
            return [frame.coords for frame in timelapse(vectors, chosen.method, chosen.cap, progress=state)]

        def done(frames):
            self.session.frames = frames
            self.controls.show_frames(len(frames))
            self.sig_timelapse_ready.emit(len(frames))

        self._start("time-lapse", work, done, "decoding the folder")

    @Slot(int)
    def _show_frame(self, index: int) -> None:
        frames = self.session.frames
        if frames and 0 <= index < len(frames) and self.session.mapped:
            self.scatter.set_points(frames[index], self.controls.colours_for(self.session), keep_view=True)
            self.scatter.select(self.scatter.selected_rows())

    # ---------------------------------------------------------------- colours
    def _compute(self, needed: str) -> None:
        """Cluster, or fit the probe on the labels, in the background; recolour when it is done."""
        session = self.session
        if self.work.busy:
            return
        vectors = session.embeddings.vectors
        if needed == "clusters":
            k = self.controls.map_settings().clusters

            def work(_state):
                return kmeans_clusters(vectors, k)

            self._start("clustering", work, lambda clusters: (session.set_clusters(clusters, k), self.recolour()),
                        f"clustering into {k} groups (k-means)", stoppable=False)
            return
        try:
            labelled, classes = session.probe_rows()
        except UserError as error:
            self.controls.note.setText(str(error))
            return

        def fit(_state):
            return fit_probe(vectors, labelled, classes)

        self._start("fitting probe", fit, lambda probe: (setattr(session, "probe", probe), self.recolour()),
                    "fitting a probe on the labels to predict the rest", stoppable=False)

    @Slot()
    def recolour(self) -> None:
        """Colour the map by the chosen mode, clustering or fitting the probe first when that is missing."""
        if not self.session.mapped:
            return
        needed = self.session.needs(self.controls.colour_mode())
        if needed:
            self._compute(needed)  # recolours again when it is done
        self.scatter.set_colours(self.controls.colours_for(self.session))

    @Slot(dict)
    def _on_map_settings(self, values: dict) -> None:
        if self.session.set_cluster_count(values["clusters"]) and self.controls.colour_mode() == "cluster":
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
        self.controls.labeller.set_classes(self.session.classes())

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
        name = (name or self.controls.labeller.class_box.currentText()).strip()
        if not self.session.mapped or not len(rows) or not name:
            return
        self.state.set_labels(self.session.label(rows, name))
        self._update_classes()
        self.recolour()
        self.controls.note.setText(f"{len(rows):,} samples labelled {name!r}; the project keeps it.")

    @Slot()
    def export_map(self, path: Path | None = None) -> None:
        """Write the map (ids, files, labels as shown, x, y, embeddings) as npz, csv or parquet, in the background."""
        if not self.session.mapped or self.work.busy:
            return
        path = path or self.controls.ask_export_path()
        if path is None:
            return
        session = self.session

        def done(fmt):
            self.controls.note.setText(f"Wrote {path.name} ({fmt}): {len(session.samples.ids):,} samples.")
            self.sig_exported.emit(str(path))

        self._start("exporting map", lambda _state: session.export(path), done,
                    f"writing {path.name}", stoppable=False)

    def shutdown(self) -> None:
        self.inspector.shutdown()


def _announcing(state: Control, phase: str) -> Progress:
    """`state` as a progress callable that starts `phase` at its first report (nothing cached to compute: no phase)."""
    started = []

    def report(done: int, total: int = 0) -> None:
        if not started:
            started.append(True)
            state.start_phase(phase)
        state(done, total)

    return report


if __name__ == "__main__":  # a manual look: python -m sslstudio.gui.panels.embeddings_panel [RUN [FOLDER]]
    from sslstudio.gui.panels import run_based_panel_alone

    run_based_panel_alone(EmbeddingsPanel)

"""The Fine-tune step: what the labels are worth, where the model errs, what to label next, and export.

Labels come from the folder's class subfolders, a CSV, and labels made in the app
(Embeddings step or here), merged; a label made in the app wins. The run's features
and the two baselines (a random-init copy of the backbone, raw inputs) are computed in
the background for the labelled samples an evaluation uses, and kept: evaluating again
computes only newly labelled ones. Suggestions rank every sample, from the run's
per-checkpoint embeddings (the map's cache). Export writes TorchScript or ONNX with the
probe as a head, and shows the automatic parity check's figures.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sslstudio.core.errors import UserError
from sslstudio.core.evaluation.active import suggest
from sslstudio.core.evaluation.session import EvaluationSession, evaluate_labels, load_features
from sslstudio.core.evaluation.settings import CurveSettings
from sslstudio.core.export_settings import FORMAT_SUFFIXES, FORMATS, ExportSettings
from sslstudio.core.recipes import RAW_INPUTS
from sslstudio.gui.jobs import JobRunner, PageJobs
from sslstudio.gui.project_state import ProjectState
from sslstudio.gui.widgets.args_form import ArgsForm
from sslstudio.gui.widgets.confusion_table import ConfusionTable
from sslstudio.gui.widgets.curve_plot import CurvePlot
from sslstudio.gui.widgets.run_picker import RunPicker
from sslstudio.gui.widgets.sample_gallery import SampleGallery


class FinetunePanel(QWidget):
    sig_evaluated = Signal()
    sig_exported = Signal(str)
    sig_show_sample = Signal(str)  # a sample id to open on the Embeddings page

    def __init__(self, jobs: JobRunner, state: ProjectState, parent: QWidget | None = None):
        super().__init__(parent)
        self.jobs = jobs
        self.state = state
        self.session = EvaluationSession()  # what is evaluated and what each change makes stale (core, Qt-free)
        self._build()

    def _build(self) -> None:
        self.picker = RunPicker("The training run to evaluate")
        self.curve_form = ArgsForm()  # the curve's settings, generated from CurveSettings' schema
        self.curve_form.set_schema(CurveSettings.schema())
        self.csv_button = QPushButton("Labels from CSV…", toolTip="path,label[,split] rows; replaces folder labels")
        self.csv_button.clicked.connect(self._choose_csv)
        self.evaluate_button = QPushButton("Evaluate", toolTip="Curve against the baselines, and the errors")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.cancel_button = QPushButton("Cancel", toolTip="Stop the work in progress; the points measured so far "
                                                           "stay on the curve")
        self.progress = QProgressBar(textVisible=False, maximumHeight=10)
        self.progress.hide()
        self.status = QLabel(wordWrap=True)
        form = QFormLayout()
        form.addRow(self.curve_form)
        self.suggest_button = QPushButton("Suggest what to label", toolTip="Uncertain and diverse samples: label "
                                                                           "them here, then evaluate again")
        self.suggest_button.clicked.connect(self.suggest)
        self.class_box = QComboBox(editable=True, toolTip="The class for the chosen suggestions")
        self.label_button = QPushButton("Label chosen", toolTip="Give the chosen suggestions this class")
        self.label_button.clicked.connect(self.label_chosen)
        self.export_box = QComboBox(toolTip="TorchScript or ONNX, with preprocessing and the probe head inside")
        self.export_box.addItems(FORMATS)
        self.export_button = QPushButton("Export…", toolTip="Write the model and check it against the app")
        self.export_button.clicked.connect(self.export_dialog)
        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(self.picker)
        column.addLayout(form)
        for widget in (self.csv_button, self.evaluate_button, self.cancel_button, self.progress, self.status,
                       self.suggest_button, self.class_box, self.label_button, self.export_box, self.export_button):
            column.addWidget(widget)
        column.addStretch(1)

        self.curve = CurvePlot()
        self.confusion = ConfusionTable()
        self.mistakes = SampleGallery("Misclassified test samples: true → predicted. Click one to open it on "
                                      "the Embeddings page, among its neighbours")
        self.mistakes.sig_chosen.connect(lambda row: self.sig_show_sample.emit(self.session.samples.ids[row]))
        self.suggestions = SampleGallery("Suggested for labelling: select some, pick a class, Label chosen")
        self.suggestions.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        tabs = QTabWidget()
        tabs.addTab(self.curve, "Label efficiency")
        tabs.addTab(self.confusion, "Confusion")
        tabs.addTab(self.mistakes, "Misclassified")
        tabs.addTab(self.suggestions, "Label next")
        self.tabs = tabs
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(tabs)
        splitter.setSizes([340, 940])  # the run picker shows a whole run name
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.work = PageJobs(self.jobs, self, self.status, self.progress)
        self.work.sig_busy_changed.connect(self._enable)
        self.cancel_button.clicked.connect(self.work.cancel)
        for signal in (self.state.sig_folder_changed, self.state.sig_runs_changed):
            signal.connect(self._on_context)
        self._on_context()

    @Slot()
    def _enable(self, *_busy) -> None:
        ready = self.session.ready and not self.work.busy
        self.evaluate_button.setEnabled(not self.work.busy and self.picker.run() is not None)
        self.cancel_button.setEnabled(self.work.busy)
        self.progress.setVisible(self.work.busy)
        for widget in (self.suggest_button, self.label_button, self.export_button):
            widget.setEnabled(ready)

    # ---------------------------------------------------------------- context
    @Slot()
    def _on_context(self) -> None:
        if self.state.folder is not None and self.state.modality:
            self.session.set_folder(self.state.folder, self.state.modality)
        self.picker.set_runs(self.state.trained_runs())
        self._enable()

    def _choose_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Labels CSV", str(self.session.folder or ""), "CSV (*.csv)")
        if path:
            self.session.set_csv(path)
            self.status.setText(f"labels from {Path(path).name}")

    # ---------------------------------------------------------------- jobs
    @Slot()
    def evaluate(self) -> None:
        run, session = self.picker.run(), self.session
        if not run or self.work.busy or session.folder is None:
            return
        try:
            chosen = CurveSettings.from_mapping(self.curve_form.values())
        except UserError as error:
            self.status.setText(f"Not evaluated: {error}")
            return
        key = session.key_for(run, self.picker.checkpoint())
        cached, app_labels = session.cached(key), dict(self.state.labels)  # the labels as Evaluate was pressed

        def work(state):
            computed = cached or load_features(key, state)
            return computed, *evaluate_labels(computed, app_labels, chosen, state, on_point=state.partial)

        def done(result):
            session.set_evaluation(key, *result)
            self.curve.show_curve(session.curve, len(session.errors.classes), RAW_INPUTS[session.modality])
            self._show_errors()
            self.status.setText(f"{session.curve.n_used} labelled samples, {session.curve.n_test} held out for "
                                f"testing; {session.errors.accuracy:.1%} with every training label "
                                f"({chosen.method}).")
            self.sig_evaluated.emit()

        def point(curve):  # the curve so far: its points come from the fewest labels up, "all labels" last
            self.curve.show_curve(curve, 0, RAW_INPUTS[session.modality], complete=False)

        self.curve.clear()
        self.work.start("evaluating", work, done, says="evaluating…", on_partial=point)

    def _show_errors(self) -> None:
        errors, session = self.session.errors, self.session
        self.confusion.show_errors(errors)
        labels = session.labels(self.state.labels)
        self.mistakes.clear()
        for row, predicted in zip(errors.misclassified[:200].tolist(), errors.predicted[:200].tolist(), strict=True):
            sample = int(session.rows[row])
            self.mistakes.add(session.samples, sample, f"{labels[sample]} → {predicted}")

    # ---------------------------------------------------------------- label next
    @Slot()
    def suggest(self) -> None:
        session = self.session
        if not session.ready or self.work.busy:
            return
        loaded, samples, labels = session.loaded, session.samples, session.labels(self.state.labels)
        labelled = np.flatnonzero(labels != "")

        def work(state):  # every sample's embedding: the per-checkpoint cache the map fills (computed if missing)
            from sslstudio.core.embeddings.cache import cached_vectors  # torch

            vectors = cached_vectors(loaded, samples, progress=state)
            state.start_phase("ranking", "samples", stoppable=False)
            return suggest(vectors, labelled, labels[labelled], count=24)

        def done(rows):
            self.suggestions.clear()
            for sample in rows.tolist():
                self.suggestions.add(session.samples, sample, labels[sample] or "unlabelled")
            self.class_box.clear()
            self.class_box.addItems(sorted(set(labels.tolist()) - {""}))
            self.tabs.setCurrentWidget(self.suggestions)
            self.status.setText(f"{len(rows)} suggestions: the probe is least sure of these, and they differ.")

        self.work.start("suggesting", work, done, says="suggesting…")

    @Slot()
    def label_chosen(self) -> None:
        name = self.class_box.currentText().strip()
        chosen = self.suggestions.selectedItems()
        if not name or not chosen:
            return
        self.state.set_labels(self.session.label([SampleGallery.row_of(item) for item in chosen], name,
                                                  self.state.labels))
        for item in chosen:
            item.setText(name)
        self.status.setText(f"{len(chosen)} labelled {name!r}. Evaluate again to extend the curve.")

    # ---------------------------------------------------------------- export
    @Slot()
    def export_dialog(self) -> None:
        fmt = self.export_box.currentText()
        suffix = FORMAT_SUFFIXES[fmt]
        path, _ = QFileDialog.getSaveFileName(self, "Export model", f"model{suffix}")
        if path:
            self.export(Path(path), fmt)

    def export(self, path: Path, fmt: str) -> None:
        session = self.session
        if not session.ready or self.work.busy:
            return
        loaded, samples, vectors = session.loaded, session.samples, session.features["ssl"]
        labels = session.labels(self.state.labels)

        def work(state):
            from sslstudio.core.export import export_with_probe  # loads torch

            vectors.take(np.flatnonzero(labels != ""), state)  # the head's rows, with progress (kept for it)
            state.start_phase("exporting and checking", stoppable=False)
            return export_with_probe(loaded, path, ExportSettings(format=fmt), samples, labels, vectors)[0]

        def done(report):
            text = f"Wrote {path.name}."
            if report is not None:
                text += (f" Checked on {report.samples} samples: embeddings differ by at most "
                         f"{report.max_abs_diff:.1e}, {report.agreement_text()}.")
            self.status.setText(text)
            self.sig_exported.emit(str(path))

        self.work.start("exporting", work, done, says="exporting…")


if __name__ == "__main__":  # a manual look: python -m sslstudio.gui.panels.finetune_panel [RUN [FOLDER]]
    from sslstudio.gui.panels import run_based_panel_alone

    run_based_panel_alone(FinetunePanel)

"""The Data step: open a folder, scan it in the background, browse thumbnails, view samples, see bad files."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from sslstudio.core.data.dataset import check_files
from sslstudio.core.data.scan import ScanResult, scan_folder
from sslstudio.core.data.store import SampleStore
from sslstudio.core.data.survey import describe_bytes
from sslstudio.gui.errors import show_error
from sslstudio.gui.jobs import Job, JobRunner
from sslstudio.gui.paths import display_path_html
from sslstudio.gui.project_state import ProjectState
from sslstudio.gui.widgets.folder_bar import FolderBar
from sslstudio.gui.widgets.folder_summary import BadFiles, FolderSummary
from sslstudio.gui.widgets.sample_viewer import SampleViewer
from sslstudio.gui.widgets.thumbnails import ThumbnailGrid, ThumbnailModel


class DataPanel(QWidget):
    sig_folder_ready = Signal(str, str)
    """A folder was scanned and a modality chosen: (folder, modality)."""
    sig_checked = Signal(int)
    """Every file of the chosen modality was decoded once: how many cannot be used."""

    def __init__(self, jobs: JobRunner, state: ProjectState, parent: QWidget | None = None):
        super().__init__(parent)
        self.jobs = jobs
        self.state = state  # its labels made in the app show here; its input settings decide the store
        self.scan: ScanResult | None = None
        self.scan_job: Job | None = None
        self.check_job: Job | None = None
        self.modality: str | None = None
        self._build()
        state.sig_labels_changed.connect(self._on_labels)

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.bar = FolderBar()
        self.bar.sig_open.connect(self.choose_folder)
        self.bar.sig_cancel.connect(self.cancel_scan)
        self.bar.sig_modality_chosen.connect(self._show_modality)
        layout.addWidget(self.bar)
        self.store_label = QLabel(wordWrap=True)
        self.store_label.setToolTip("Every file is decoded once, at the input settings, into a store on disk; "
                                    "later steps and commands read it instead of the files")
        layout.addWidget(self.store_label)

        self.model = ThumbnailModel(self)
        self.grid = ThumbnailGrid(self.model)
        self.grid.selectionModel().currentChanged.connect(self._on_current_changed)

        self.viewer = SampleViewer()
        self.summary = FolderSummary()
        self.bad_list = BadFiles()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.viewer, "Sample")
        self.tabs.addTab(self.summary, "Summary")
        self.tabs.addTab(self.bad_list, "Bad files")
        splitter = QSplitter()
        splitter.addWidget(self.grid)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([700, 460])
        layout.addWidget(splitter, 1)

    # ---------------------------------------------------------------- scanning
    @Slot()
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a data folder")
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path, modality: str | None = None) -> Job:
        self.cancel_scan()
        folder = Path(folder)
        self.bar.say(f"Scanning {display_path_html(folder)} …")
        self.bar.show_progress(0, "%v files")
        job = self.scan_job = self.jobs.start("scanning folder",
                                              lambda state: scan_folder(folder, state), self)
        job.sig_progress.connect(lambda done, _total: self.bar.step(done))
        job.sig_done.connect(lambda scan: self._on_scanned(scan, modality))
        job.sig_failed.connect(self._on_scan_failed)
        job.sig_cancelled.connect(lambda: self.bar.say(f"Scan of {folder} cancelled."))
        job.sig_over.connect(lambda: self._scan_over(job))
        return job

    @Slot()
    def cancel_scan(self) -> None:
        for job in (self.scan_job, self.check_job):
            if job is not None and job.is_running():
                job.cancel()

    def _scan_over(self, job: Job) -> None:
        if self.scan_job is not job:
            return
        self.scan_job = None
        if self.check_job is None:
            self.bar.hide_progress()

    def _on_scan_failed(self, message: str, details: str) -> None:
        self.bar.say("Could not scan that folder.")
        show_error(self, message, details)

    def _on_scanned(self, scan: ScanResult, wanted: str | None) -> None:
        self.scan = scan
        counts = scan.counts()
        self.summary.show_folder(scan, self.state.labels)
        self._fill_bad_files(scan)
        if not counts:
            self.bar.say(f"{display_path_html(scan.root)} holds no image, audio or text files "
                         f"({len(scan.bad)} unreadable, {scan.ignored} of other types).")
            self.model.set_files(scan.root, "image", [], [])
            return
        chosen = wanted if wanted in counts else scan.main_modality()
        self.bar.show_modalities(counts, chosen)
        self._show_modality(chosen)

    @Slot(str)
    def _show_modality(self, modality: str) -> None:
        scan = self.scan
        if scan is None:
            return
        self.modality = modality
        files = scan.files[modality]
        labels = scan.labels_of(modality) if scan.looks_labelled(modality) else [None] * len(files)
        self.model.set_files(scan.root, modality, files, labels)
        n_labels = len(set(labels) - {None})
        bad = f", {len(scan.bad)} skipped (see Bad files)" if scan.bad else ""
        self.bar.say(f"<b>{display_path_html(scan.root)}</b>: {len(files)} {modality} files"
                     + (f" in {n_labels} labelled folders" if n_labels else ", unlabelled") + bad)
        self.sig_folder_ready.emit(str(scan.root), modality)
        self._check_files(scan.root, modality, files)

    def _check_files(self, root: Path, modality: str, files: list[str]) -> None:
        """Decode every file into the folder's sample store, as training will read it, in the background, and
        list the ones it cannot use."""
        wanted, scan = dict(self.state.project.inputs), self.scan

        def check(state):
            from sslstudio.core.training.session import suited_inputs  # loads torch

            spec, _ = suited_inputs(root, modality, "auto", wanted, scan)
            bad = check_files(root, files, modality, spec, progress=state)
            return bad, SampleStore.for_folder(root, modality, spec).size_bytes()

        if self.check_job is not None:
            self.check_job.cancel()
        self.store_label.clear()
        self._fill_bad_files(self.scan)
        self.bar.show_count(len(files), "decoding")
        job = self.check_job = self.jobs.start("decoding files", check, self)
        job.sig_progress.connect(self._show_check_progress)
        job.sig_done.connect(lambda result: self._on_checked(modality, *result))
        job.sig_failed.connect(lambda message, details: show_error(self, message, details))
        job.sig_over.connect(lambda: self._check_over(job))

    def _show_check_progress(self, done: int, total: int) -> None:
        if total:  # 0 while another job holds the store: the bar waits where it is
            self.bar.step(done, total)

    def _on_checked(self, modality: str, bad: list, store_bytes: int) -> None:
        if modality != self.modality:
            return

        self.store_label.setText(f"Decoded samples are kept in the sample store: {describe_bytes(store_bytes)} "
                                 f"(Train, Embeddings and Fine-tune read them from there; "
                                 f"<code>sslstudio store list</code> shows every store)")
        self.tabs.setTabText(2, f"Bad files ({self.bad_list.add(bad)})")
        note = (f"; {len(bad)} cannot be decoded and will be skipped (see Bad files)" if bad
                else "; every file decodes")
        self.bar.say(self.bar.text() + note)
        self.sig_checked.emit(len(bad))

    def _check_over(self, job: Job) -> None:
        if self.check_job is not job:
            return  # an older check, replaced by a newer one
        self.check_job = None
        if self.scan_job is None:
            self.bar.hide_progress()

    @Slot()
    def _on_labels(self) -> None:
        """Show the labels made in the app (Embeddings, Fine-tune) beside the folder's own."""
        self.model.set_app_labels(self.state.labels)
        if self.scan is not None:
            self.summary.show_folder(self.scan, self.state.labels)

    def _fill_bad_files(self, scan: ScanResult) -> None:
        self.bad_list.clear()
        self.tabs.setTabText(2, f"Bad files ({self.bad_list.add(scan.bad)})")

    # ---------------------------------------------------------------- viewing
    @Slot(QModelIndex, QModelIndex)
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and self.modality:
            self.viewer.show_sample(self.model.data(current, Qt.ItemDataRole.UserRole), self.modality,
                                    self.model.label_of(current.row()))
            self.tabs.setCurrentWidget(self.viewer)

    def clear(self) -> None:
        self.cancel_scan()
        self.scan, self.modality = None, None
        self.model.set_files(Path(), "image", [], [])
        self.summary.clear()
        self.bad_list.clear()
        self.bar.clear()
        self.store_label.clear()

    def shutdown(self) -> None:
        self.cancel_scan()
        self.model.shutdown()
        self.viewer.shutdown()


if __name__ == "__main__":  # a manual look: python -m sslstudio.gui.panels.data_panel [FOLDER]
    from sslstudio.gui.panels import given_folder, run_panel_alone

    def make(jobs, args):
        panel = DataPanel(jobs, ProjectState())
        panel.open_folder(given_folder(args[:1]))
        return panel

    run_panel_alone(make)

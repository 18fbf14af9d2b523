"""The input settings of a folder (image size; clip length and sample rate; text length), beside the task's.

The form is generated from `InputSpec`'s schema, like the task form. Its first values are proposed
from the folder's files (`core.data.survey.recommend`), and under it the widget says what they
cost: the store's size on disk, what a training batch reads, and a warning when the files hold far
more detail than the chosen size keeps.
"""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.data.survey import Recommendation, Survey, describe_bytes, recommend
from sslstudio.core.errors import UserError
from sslstudio.gui.widgets.args_form import ArgsForm
from sslstudio.gui.widgets.train_settings import WORKBENCH_DEFAULTS


class InputSettings(QWidget):
    sig_changed = Signal(dict)
    """The input settings changed (or were first proposed): every value, by name."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.form = ArgsForm()
        self.form.sig_changed.connect(self._on_edited)
        self.estimate = QLabel("Looking at the folder's files…")
        self.estimate.setWordWrap(True)
        self.estimate.setToolTip("What these settings cost, estimated from a sample of the files' headers")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form)
        layout.addWidget(self.estimate)
        self.survey: Survey | None = None
        self.device_type = "cpu"
        self.batch = WORKBENCH_DEFAULTS["batch_size"]  # what the estimate assumes: the Train page's batch size

    def set_batch(self, batch: int) -> None:
        """The Train page's batch size changed: the estimate of what a batch reads follows."""
        if batch != self.batch:
            self.batch = batch
            self._on_edited(self.values())

    def show_folder(self, found: Survey, device_type: str, values: dict | None = None) -> None:
        """The proposal for this folder on this device; `values` (a project's) win over it."""
        self.survey, self.device_type = found, device_type
        advice = recommend(found, device_type, self._known(values or {}), self.batch)
        names = InputSpec.MODALITY_FIELDS[found.modality]
        self.form.set_schema(InputSpec.schema_for(found.modality), {n: getattr(advice.spec, n) for n in names})
        self._show(advice)
        self.sig_changed.emit(self.values())

    def values(self) -> dict:
        return self.form.values()

    def spec(self) -> InputSpec:
        """The settings as an InputSpec; raises UserError (ArgsError) for a value out of range."""
        return InputSpec.from_mapping(self.values())

    @Slot(dict)
    def _on_edited(self, values: dict) -> None:
        if self.survey is None:
            return
        try:
            self._show(recommend(self.survey, self.device_type, values, self.batch))
        except UserError as error:
            self.estimate.setText(f"<span style='color:#c03030'>{error}</span>")
            return
        self.sig_changed.emit(values)

    def _show(self, advice: Recommendation) -> None:
        found = self.survey
        lines = [f"Store: about <b>{describe_bytes(advice.store_bytes)}</b> on disk for {found.files:,} files, "
                 f"decoded once. A training batch of {self.batch} reads {describe_bytes(advice.batch_bytes)}."]
        lines += advice.notes
        lines += [f"<span style='color:#b05000'>⚠ {warning}</span>" for warning in advice.warnings]
        self.estimate.setText("<br>".join(lines))

    @staticmethod
    def _known(values: dict) -> dict:
        names = {f["name"] for f in InputSpec.schema()}
        return {k: v for k, v in values.items() if k in names}

"""A form generated from a settings schema (a task's Args, the input settings): typed widgets, ranges,
help as tooltips.

The schema is the one `sslstudio tasks --json` prints, so the GUI and the CLI
can never disagree about a setting. Values set from the model (a project being
opened) are written with the widgets' signals blocked, so they do not echo back
as user edits.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

INT_LIMIT = 2_000_000_000


class ArgsForm(QWidget):
    sig_changed = Signal(dict)
    """The user changed a value: every current value, by name."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.editors: dict[str, QWidget] = {}
        self.schema: list[dict] = []

    def set_schema(self, schema: list[dict], values: dict | None = None) -> None:
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.editors.clear()
        self.schema = schema
        for field in schema:
            editor = self._editor(field)
            label = QLabel(field["name"].replace("_", " "))
            tip = field["help"] + _range_text(field) + f" Default: {field['default']}."
            for widget in (label, editor):
                widget.setToolTip(tip)
            self.layout_.addRow(label, editor)
            self.editors[field["name"]] = editor
        if not schema:
            self.layout_.addRow(QLabel("This task has no settings."))
        self.set_values({**{f["name"]: f["default"] for f in schema}, **(values or {})})

    def _editor(self, field: dict) -> QWidget:
        kind = field["type"]
        if "choices" in field:
            editor = QComboBox()
            for choice in field["choices"]:
                editor.addItem(str(choice), choice)
            editor.currentIndexChanged.connect(self._emit)
        elif kind == "bool":
            editor = QCheckBox()
            editor.toggled.connect(self._emit)
        elif kind == "int":
            editor = QSpinBox()
            editor.setRange(int(field.get("min", -INT_LIMIT)), int(field.get("max", INT_LIMIT)))
            editor.setKeyboardTracking(False)  # one change when typing stops, not one per digit
            editor.valueChanged.connect(self._emit)
        elif kind == "float":
            editor = QDoubleSpinBox()
            low, high = field.get("min", -1e9), field.get("max", 1e9)
            editor.setDecimals(4 if high - low <= 10 else 2)
            editor.setRange(low, high)
            editor.setSingleStep(_step(low, high))
            editor.setKeyboardTracking(False)
            editor.valueChanged.connect(self._emit)
        elif kind == "str":
            editor = QLineEdit()
            editor.editingFinished.connect(self._emit)
        else:
            raise ValueError(f"setting {field['name']!r} has a type the form cannot show: {kind}")
        return editor

    def values(self) -> dict:
        out = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QComboBox):
                out[name] = editor.currentData()
            elif isinstance(editor, QCheckBox):
                out[name] = editor.isChecked()
            elif isinstance(editor, QLineEdit):
                out[name] = editor.text().strip()
            else:
                out[name] = editor.value()
        return out

    def set_values(self, values: dict) -> None:
        for name, value in values.items():
            editor = self.editors.get(name)
            if editor is None:
                continue
            editor.blockSignals(True)
            if isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(0, editor.findData(value)))
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QLineEdit):
                editor.setText(str(value))
            else:
                editor.setValue(value)
            editor.blockSignals(False)

    def changed_from_defaults(self) -> dict:
        defaults = {f["name"]: f["default"] for f in self.schema}
        return {k: v for k, v in self.values().items() if defaults.get(k) != v}

    def _emit(self, *_args) -> None:
        self.sig_changed.emit(self.values())


def _range_text(field: dict) -> str:
    if "choices" in field:
        return ""
    if "min" in field and "max" in field:
        return f" Range {field['min']} to {field['max']}."
    return ""


def _step(low: float, high: float) -> float:
    span = high - low
    return 0.01 if span <= 1.5 else 0.1 if span <= 20 else 1.0

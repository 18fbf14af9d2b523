"""A form generated from a settings schema (a task's Args, the input, training, probe and map settings):
typed widgets, ranges, help as tooltips.

An optional field (`none_means`) shows its meaning at the bottom of its range ("until the time
budget") and reads back as None; a field of several values is a line of them, separated by spaces.

The schema is the one `sslstudio tasks --json` prints, so the GUI and the CLI
can never disagree about a setting. Values set from the model (a project being
opened) are written with the widgets' signals blocked, so they do not echo back
as user edits.
"""
from __future__ import annotations

import math

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
            label = QLabel(field.get("label") or field["name"].replace("_", " "))
            default = field.get("none_means") if field["default"] is None else _shown(field["default"])
            tip = field["help"] + _range_text(field) + f" Default: {default}."
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
                editor.addItem(field.get("choice_names", {}).get(choice, str(choice)), choice)
            editor.currentIndexChanged.connect(self._emit)
        elif kind == "bool":
            editor = QCheckBox()
            editor.toggled.connect(self._emit)
        elif field.get("many") or kind == "str":
            editor = QLineEdit()
            editor.editingFinished.connect(self._emit)
        elif kind == "int":
            editor = QSpinBox()
            low = int(field.get("min", -INT_LIMIT))
            editor.setRange(low - 1 if field.get("optional") else low, int(field.get("max", INT_LIMIT)))
            editor.setKeyboardTracking(False)  # one change when typing stops, not one per digit
            editor.valueChanged.connect(self._emit)
        elif kind == "float":
            editor = QDoubleSpinBox()
            low, high = field.get("min", -1e9), field.get("max", 1e9)
            editor.setDecimals(_decimals(field))  # before the value, or 0.002 is rounded to the 2 decimals first
            step = _step(field)
            editor.setRange(low - step if field.get("optional") else low, high)
            editor.setSingleStep(step)
            editor.setKeyboardTracking(False)
            editor.valueChanged.connect(self._emit)
        else:
            raise ValueError(f"setting {field['name']!r} has a type the form cannot show: {kind}")
        if field.get("optional") and isinstance(editor, (QSpinBox, QDoubleSpinBox)):
            editor.setSpecialValueText(field.get("none_means", "none"))  # shown at the bottom of the range
        return editor

    def values(self) -> dict:
        """Typed values by name; None for an optional field left at its meaning ("no time limit")."""
        out = {}
        fields = {field["name"]: field for field in self.schema}
        for name, editor in self.editors.items():
            if isinstance(editor, QComboBox):
                out[name] = editor.currentData()
            elif isinstance(editor, QCheckBox):
                out[name] = editor.isChecked()
            elif isinstance(editor, QLineEdit):
                text = editor.text().strip()
                out[name] = _several(text, fields[name]["type"]) if fields[name].get("many") else text
            elif fields[name].get("optional") and editor.value() == editor.minimum():
                out[name] = None
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
                editor.setText(_shown(value))
            else:
                editor.setValue(editor.minimum() if value is None else value)
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


def _step(field: dict) -> float:
    """Steps of a tenth of the range's scale; an unbounded field (a learning rate) steps by its default's
    leading digit's place (0.001 for 0.002)."""
    if "max" not in field and field["default"]:
        return 10.0 ** math.floor(math.log10(abs(field["default"])))
    span = field.get("max", 1e9) - field.get("min", -1e9)
    return 0.01 if span <= 1.5 else 0.1 if span <= 20 else 1.0


def _decimals(field: dict) -> int:
    """Enough decimals to show the range's small bounds and the default, at most 6."""
    low, high = field.get("min", -1e9), field.get("max", 1e9)
    wanted = 4 if high - low <= 10 else 2
    for value in (low, field["default"], _step(field)):
        if value and 0 < abs(value) < 1:
            wanted = max(wanted, math.ceil(-math.log10(abs(value)) - 1e-9))
    return min(wanted, 6)


def _shown(value) -> str:
    return " ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _several(text: str, kind: str) -> list | str:
    """The values of a line ("1 2 5"), typed; the text as it is when a value does not parse, for the
    settings' own check to name."""
    convert = {"int": int, "float": float}.get(kind, str)
    try:
        return [convert(part) for part in text.replace(",", " ").split()]
    except ValueError:
        return text

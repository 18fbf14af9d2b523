"""A run's settings on the Train page: the device, the backbone, and the training form generated from
`TrainConfig`'s schema, with the workbench's own defaults named once. Self-contained: the choices come in
through `fill_choices`, a recipe through `apply_recipe`, and the settings go out through `values()`.
"""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QWidget

from sslstudio.core.training.config import TrainConfig
from sslstudio.gui.widgets.args_form import ArgsForm

LOG_EVERY = 5  # steps between logged metrics: frequent enough for live curves, cheap enough for health metrics
HIDDEN_SETTINGS = ("log_every",)  # the workbench logs every LOG_EVERY steps for its live curves
# The workbench's own defaults over TrainConfig's: a short first run, and a batch that suits a laptop's CPU.
WORKBENCH_DEFAULTS = {"max_minutes": 2.0, "batch_size": 64}
AUTOMATIC = "automatic"


def device_and_backbone_choices(modality: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    from sslstudio.core.models.backbones import BACKBONES  # loads torch
    from sslstudio.core.training.device import available_devices  # loads torch

    automatic = (AUTOMATIC, "The recipe's or the task's own where they name one; else a small CNN on a CPU, and on a "
                            "GPU ResNet-50 for photos (96 px and up) or the CIFAR-stem ResNet-18 for small images. "
                            "Type timm:NAME for any timm model.")
    return available_devices(), [automatic] + [(name, about) for name, (_, about) in BACKBONES[modality].items()]


class TrainSettings(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QFormLayout(self)
        self.device_box = QComboBox()
        self.device_box.setToolTip("Where to train. Automatic picks a CUDA GPU, then Apple MPS, then the CPU")
        self.backbone_box = QComboBox(editable=True)
        self.backbone_box.setToolTip("The network that learns the representation: pick one, or type timm:NAME "
                                     "for any timm model (built without downloading weights)")
        for label, box in (("device", self.device_box), ("backbone", self.backbone_box)):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(14)
            layout.addRow(label, box)
        self.form = ArgsForm()
        self.form.layout_.setContentsMargins(0, 0, 0, 0)
        self.form.set_schema([f for f in TrainConfig.schema() if f["name"] not in HIDDEN_SETTINGS],
                             WORKBENCH_DEFAULTS)
        layout.addRow(self.form)
        self.recipe = None  # the recommended recipe last applied (core/recipes.py)

    @Slot(object)
    def fill_choices(self, choices) -> None:
        devices, backbones = choices
        for box, items in ((self.device_box, devices), (self.backbone_box, backbones)):
            box.clear()
            for name, about in items:
                box.addItem(name if box is self.backbone_box else about, name)
                box.setItemData(box.count() - 1, about, Qt.ItemDataRole.ToolTipRole)

    def apply_recipe(self, recipe) -> None:
        """Show a recommended recipe's budget and settings; a new run of its task records the recipe."""
        self.form.set_values({"max_minutes": None, "epochs": None, **recipe.train})
        self.recipe = recipe
        self.form.sig_changed.emit(self.form.values())  # set_values is quiet; its batch size matters elsewhere

    def recipe_for(self, task: str) -> str | None:
        """The applied recipe's name when a run of `task` follows it."""
        return self.recipe.name if self.recipe is not None and self.recipe.task == task else None

    def device(self) -> str:
        return self.device_box.currentData() or "auto"

    def backbone(self) -> str | None:
        """The chosen backbone, a typed timm:NAME, or None for the automatic choice."""
        text = self.backbone_box.currentText().strip()
        return None if text in ("", AUTOMATIC) else text

    def values(self) -> dict:
        """The training settings; a field left at its meaning ("no time limit") is left out."""
        values = {k: v for k, v in self.form.values().items() if v is not None}
        return {**values, "log_every": LOG_EVERY}


SHORT_BUDGET = "Short budget"  # the alert line's key for the warning below


def one_pass_warning(settings: dict, samples: int, noun: str, speed: float | None = None,
                     measured_in: str = "") -> str | None:
    """In plain words, when the settings stop the run before one pass over the folder's `samples`: the step
    limit, or the time budget at `speed` samples a second (measured `measured_in`). None when they do not,
    or when nothing says how fast training goes."""
    batch = settings.get("batch_size") or WORKBENCH_DEFAULTS["batch_size"]
    limits = []
    if settings.get("max_steps"):
        limits.append((settings["max_steps"], f"the limit of {settings['max_steps']:,} steps"))
    minutes = settings.get("max_minutes")
    if minutes and speed:
        limits.append((speed * minutes * 60 / batch, f"at about {speed:.0f} {noun}/s ({measured_in}), "
                                                     f"the {minutes:g}-min budget"))
    if not samples or not limits:
        return None
    steps, limit = min(limits)
    share = steps * batch / samples
    if share >= 1:
        return None
    part = f"{share:.0%}" if share >= 0.01 else "less than 1 %"
    needed = minutes / share if speed and minutes and share > 0 and limit.startswith("at about") else None
    advice = f"; about {needed:.1f} min would give one pass" if needed and needed < 10 else \
        f"; about {needed:,.0f} min would give one pass" if needed else ""
    return (f"{SHORT_BUDGET}: {limit} trains about {max(1, round(steps)):,} steps of {batch}, {part} of one pass "
            f"over the {samples:,} {noun}{advice}")


def recent_speed(run: str | Path) -> float | None:
    """A run's speed, in samples a second, at its last logged steps (read from the end of its metrics)."""
    try:
        with open(Path(run) / "metrics.jsonl", "rb") as f:
            start = max(0, f.seek(0, 2) - 8192)
            f.seek(start)
            lines = f.read().splitlines()[1 if start else 0:]  # past a line the seek may have cut
    except OSError:
        return None
    speeds = []
    for line in lines[-5:]:
        try:
            speeds.append(float(json.loads(line)["samples_per_s"]))
        except (ValueError, KeyError, TypeError):
            continue
    return sorted(speeds)[len(speeds) // 2] if speeds else None

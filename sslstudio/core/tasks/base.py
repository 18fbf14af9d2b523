"""The pretext-task contract shared by every task.

A task turns a batch of raw samples into model inputs and targets with
`make_batch` and computes its loss in `forward`. `preview` calls the very same
`make_batch` on a few samples with a seeded generator, so what the user sees
is what the loss sees, with the sampled parameters attached.
"""
from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch import nn

from sslstudio.core.models.inputs import Pipeline
from sslstudio.core.tasks.args import TaskArgs
from sslstudio.core.tasks.augment import random_crop


@dataclass
class Batch:
    """Model inputs, targets and the per-sample parameters that produced them."""

    inputs: torch.Tensor
    targets: torch.Tensor
    params: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.inputs)


@dataclass
class TaskOutput:
    """What one forward pass gives the trainer: the loss, embeddings for health, extra metrics."""

    loss: torch.Tensor
    embeddings: torch.Tensor
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)


PreviewKind = Literal["image", "spectrogram", "audio", "tokens"]  # what sheet.py and the preview grid can draw


@dataclass(frozen=True)
class PreviewItem:
    """One renderable thing."""

    kind: PreviewKind
    title: str
    data: Any  # uint8 HWC image, 2-D float spectrogram, 1-D float audio, or list of tokens
    mask: np.ndarray | None = None  # boolean, same layout as data, True where hidden
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PreviewSample:
    sample_index: int
    items: tuple[PreviewItem, ...]


def _off_cpu(module: nn.Module) -> bool:
    return any(t.device.type != "cpu" for t in (*module.parameters(), *module.buffers()))


def _cpu_copy(module: nn.Module) -> nn.Module:
    return copy.deepcopy(module).cpu() if _off_cpu(module) else module


def make_generator(seed: int) -> torch.Generator:
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


FAMILIES = ("transformation prediction", "reconstruction", "context prediction", "contrastive",
            "self-distillation", "redundancy reduction")
COSTS = {"low": "one pass per sample",
         "medium": "two to four views per sample, or a Transformer",
         "high": "several views and a momentum network per sample"}


class PretextTask(ABC):
    name: ClassVar[str]
    modality: ClassVar[str]
    summary: ClassVar[str]
    reference: ClassVar[str]
    Args: ClassVar[type[TaskArgs]]
    family: ClassVar[str]  # one of FAMILIES: how the task makes its own labels, for grouping
    cost: ClassVar[str]  # a key of COSTS: compute per sample, against the other tasks
    # The backbones this task can train, the first its default; None: any backbone of its modality.
    backbones: ClassVar[tuple[str, ...] | None] = None
    # False when make_batch draws nothing at random (the views differ inside the model, e.g. by
    # dropout): then a new preview seed shows the same inputs.
    stochastic_input: ClassVar[bool] = True
    # True when the task learns nothing from greyscale pictures (colorization): tests, benches and the
    # leaderboard give it a colour folder.
    needs_colour: ClassVar[bool] = False

    def __init__(self, args: TaskArgs, pipeline: Pipeline):
        self.args = args
        self.pipeline = pipeline

    @abstractmethod
    def build_heads(self, backbone: nn.Module) -> nn.Module:
        """The task's trainable heads on top of `backbone`."""

    @abstractmethod
    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        """Raw samples (on any device) -> inputs and targets; random draws use `generator` (CPU)."""

    @abstractmethod
    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        """Loss and embeddings for one batch."""

    @abstractmethod
    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        """What the model sees for each raw sample, made by `make_batch` with `seed`."""

    def preview_samples(self, samples, indices, seed: int, model: nn.Module | None = None) -> list[PreviewSample]:
        """The preview of these samples as training reads them (the same windows for a seed); with a
        model (backbone and heads), its own outputs beside them."""
        raw = self.pipeline.training_raw(samples, indices, seed)
        if model is None:
            return self.preview(raw, seed)
        return self.live_preview(model.backbone, model.heads, raw, seed)

    def crop_stored(self, raw: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Images are stored a little larger than the model's input: a random square of the input's size
        (real pixels, a shift of up to the margin). Returns (images, offsets (B, 2) as dy, dx)."""
        return random_crop(raw, self.pipeline.spec.image_size, generator)

    def param_groups(self, model: nn.Module) -> list[dict]:
        """The optimizer's parameter groups; a group may carry an `lr_scale` on the schedule's rate."""
        return [{"params": model.parameters()}]

    def after_step(self, model: nn.Module, progress: float) -> None:  # noqa: B027 - optional; most tasks need none
        """Called after each optimizer step with the share of the budget used (EMA targets live here)."""

    def output_items(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> list[PreviewItem] | None:
        """The current model's output per sample (reconstruction, colours, token fills), or None."""
        return None

    def live_preview(self, backbone: nn.Module, heads: nn.Module, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        """`preview` plus, for tasks that have one, the model's own output on the same inputs.

        It always runs on the CPU, on copies of whatever lives elsewhere, so a
        caller may ask while training holds the model and pipeline on a GPU.
        """
        if any(_off_cpu(m) for m in (backbone, heads, self.pipeline.preprocess)) or raw.device.type != "cpu":
            return self._on_cpu().live_preview(_cpu_copy(backbone), _cpu_copy(heads), raw.cpu(), seed)
        samples = self.preview(raw, seed)
        modules = (backbone, heads)
        modes = [m.training for m in modules]
        try:
            for m in modules:
                m.eval()
            with torch.no_grad():
                outputs = self.output_items(backbone, heads, self.make_batch(raw, make_generator(seed)))
        finally:
            for m, mode in zip(modules, modes):
                m.train(mode)
        if outputs is None:
            return samples
        return [PreviewSample(s.sample_index, s.items + (out,)) for s, out in zip(samples, outputs)]

    def _on_cpu(self) -> PretextTask:
        task = copy.copy(self)
        task.pipeline = copy.copy(self.pipeline)
        task.pipeline.preprocess = _cpu_copy(self.pipeline.preprocess)
        return task

    @classmethod
    def describe(cls) -> dict:
        return {"name": cls.name, "modality": cls.modality, "description": cls.summary,
                "reference": cls.reference, "family": cls.family, "cost": cls.cost, "cost_means": COSTS[cls.cost],
                "backbones": list(cls.backbones) if cls.backbones else None,
                "stochastic_input": cls.stochastic_input, "args": cls.Args.schema()}

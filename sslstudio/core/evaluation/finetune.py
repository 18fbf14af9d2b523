"""Full fine-tuning on the labelled samples: the pretrained backbone plus a linear head, trained with
cross-entropy through the same Trainer as pretraining, the backbone at a tenth of the head's
learning rate so the few labels adjust the features rather than overwrite them.

The training set is a `LabelledData`: the labelled samples' raw batches with their class index,
so the Trainer's loop, feed, schedule, AMP and device handling are reused unchanged.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sslstudio.core.errors import UserError
from sslstudio.core.tasks.args import TaskArgs
from sslstudio.core.tasks.base import Batch, PretextTask, TaskOutput

BACKBONE_LR_SCALE = 0.1


class LabelledRaw:
    """A raw batch and its targets, moved together."""

    def __init__(self, raw: torch.Tensor, targets: torch.Tensor):
        self.raw, self.targets = raw, targets

    def to(self, device, non_blocking: bool = False) -> LabelledRaw:
        return LabelledRaw(self.raw.to(device, non_blocking=non_blocking),
                           self.targets.to(device, non_blocking=non_blocking))


class LabelledData:
    """The training rows of a sample set with their class indices: what the Trainer's feed reads."""

    def __init__(self, samples, pipeline, rows: np.ndarray, targets: np.ndarray):
        self.samples, self.pipeline = samples, pipeline
        self.rows, self.targets = np.asarray(rows), torch.as_tensor(targets, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, indices: np.ndarray, seed: int, pin: bool = False) -> LabelledRaw:
        raw = self.pipeline.training_raw(self.samples, self.rows[indices], seed, pin)
        return LabelledRaw(raw, self.targets[torch.as_tensor(indices)])


@dataclass(frozen=True)
class FineTuneArgs(TaskArgs):
    """No settings: the learning rates and steps are the fine-tuning call's arguments."""


class FineTuneTask(PretextTask):
    name = "finetune"
    summary = "Supervised fine-tuning of a pretrained backbone with a linear head"
    reference = ""
    Args = FineTuneArgs
    stochastic_input = False

    def __init__(self, pipeline, classes: int, modality: str):
        super().__init__(FineTuneArgs(), pipeline)
        self.classes = classes
        self.modality = modality

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return nn.Linear(backbone.embed_dim, self.classes)

    def param_groups(self, model: nn.Module) -> list[dict]:
        return [{"params": model.backbone.parameters(), "lr_scale": BACKBONE_LR_SCALE},
                {"params": model.heads.parameters(), "lr_scale": 1.0}]

    def make_batch(self, raw: LabelledRaw, generator: torch.Generator) -> Batch:
        if self.modality != "image":
            return Batch(self.pipeline.preprocess(raw.raw), raw.targets)
        # Crops of the stored margin and horizontal flips: the augmentations safe for any image class.
        inputs = self.pipeline.preprocess(self.crop_stored(raw.raw, generator)[0])
        flip = torch.rand(len(inputs), generator=generator) < 0.5
        inputs = torch.where(flip.to(inputs.device)[:, None, None, None], inputs.flip(-1), inputs)
        return Batch(inputs, raw.targets)

    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        embeddings = backbone(batch.inputs)
        logits = heads(embeddings)
        accuracy = (logits.argmax(1) == batch.targets).float().mean()
        return TaskOutput(F.cross_entropy(logits, batch.targets), embeddings, {"accuracy": accuracy})

    def preview(self, raw, seed: int):
        return []


def finetune_predict(run, samples, train_rows: np.ndarray, train_labels: np.ndarray,
                     test_rows: np.ndarray, seed: int = 0, steps: int = 200, lr: float = 1e-3,
                     batch_size: int = 32, device: str = "auto") -> np.ndarray:
    """Fine-tune a copy of the run's backbone on the training rows; predicted classes for the test rows."""
    from sslstudio.core.training.device import resolve_device
    from sslstudio.core.training.events import TrainingFailed
    from sslstudio.core.training.trainer import TaskModel, TrainConfig, Trainer

    classes, targets = np.unique(train_labels, return_inverse=True)
    torch.manual_seed(seed)
    task = FineTuneTask(run.pipeline, len(classes), run.modality)
    backbone = copy.deepcopy(run.backbone).train()
    model = TaskModel(task, backbone, task.build_heads(backbone))
    config = TrainConfig(epochs=10_000, max_steps=steps, batch_size=min(batch_size, len(train_rows)), lr=lr,
                         weight_decay=1e-4, warmup_fraction=0.1, seed=seed, log_every=max(steps, 1))
    target = resolve_device(device)
    data = LabelledData(samples, run.pipeline, train_rows, targets)
    result = Trainer(task, model, data, config, run_dir=None, device=target).fit()
    if isinstance(result, TrainingFailed):
        raise UserError(f"fine-tuning failed: {result.message}")
    model.eval()
    predictions = []
    with torch.no_grad():
        for chunk in run.pipeline.eval_batches(samples, 256, test_rows):
            inputs = run.pipeline.preprocess(chunk.to(target))
            predictions.append(model.heads(model.backbone(inputs)).argmax(1).cpu())
    run.pipeline.preprocess.cpu()
    return classes[torch.cat(predictions).numpy()]

"""Events the Trainer reports: frozen, small, CPU-only (plain floats and numpy).

No tensors or models travel in an event, so a listener on another thread can
keep them as long as it likes without pinning GPU memory.
"""
from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields

SAMPLE_NOUN = {"image": "images", "audio": "clips", "text": "texts"}  # what a speed counts, in words


@dataclass(frozen=True)
class StepMetrics:
    step: int
    epoch: int
    total_steps: int | None  # None when time alone ends the run
    loss: float
    lr: float
    samples_per_s: float  # images, clips or texts per second, whatever the number of views each makes
    eta_s: float
    data_wait_share: float
    metrics: dict = field(default_factory=dict)  # task metrics, e.g. pretext accuracy
    views_per_s: float = 0.0  # inputs the model sees per second (SimCLR: 2 per image, rotation: 4)
    progress: float = 0.0  # share of the budget used, steps or time, whichever governs


@dataclass(frozen=True)
class HealthMetrics:
    """Collapse std of L2-normalised embeddings (healthy near 1/sqrt(D), collapsed near 0)
    and effective rank (Roy and Vetterli 2007) of one batch of embeddings; online kNN
    accuracy on held-out labelled samples when the folder has labels and it was measured."""

    step: int
    collapse_std: float
    healthy_std: float
    effective_rank: float
    embed_dim: int
    knn_accuracy: float | None = None


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: str


@dataclass(frozen=True)
class TrainingFinished:
    step: int
    reason: str  # which limit ended the run, in words: epochs, steps, time budget, or cancelled
    seconds: float  # training time, which a time budget counts
    setup_seconds: float = 0.0  # the wait for the first batch, outside the budget


@dataclass(frozen=True)
class TrainingFailed:
    step: int
    message: str
    traceback: str = ""


Event = StepMetrics | HealthMetrics | CheckpointSaved | TrainingFinished | TrainingFailed


def events_from_record(record: dict) -> list[Event]:
    """A line of a run's metrics.jsonl (a step's metrics and its health, merged) as the events it was written
    from, so a run read back from disk and a running one are drawn by the same code. A field an older run
    did not write is None for the ETA's total, else zero."""
    events: list[Event] = [_from_record(StepMetrics, record)]
    if "collapse_std" in record:
        events.append(_from_record(HealthMetrics, record))
    return events


def _from_record(cls, record: dict):
    values = {}
    for spec in fields(cls):
        if spec.name in record:
            values[spec.name] = record[spec.name]
        elif spec.default is MISSING and spec.default_factory is MISSING:
            values[spec.name] = None if spec.name == "total_steps" else 0
    return cls(**values)

"""What the labels are worth, in one call: the label-efficiency curve against the baselines, and
where the model still errs (confusion matrix, per-class accuracy, the misclassified samples).

The Fine-tune page and `sslstudio curve` share it. Features are computed once per feature
set (`features.py`); every probe after that is a refit on those arrays.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sslstudio.core.data.dataset import SampleSet
from sslstudio.core.evaluation.classifiers import predict
from sslstudio.core.evaluation.label_efficiency import SHOTS, LabelCurve, holdout, label_efficiency
from sslstudio.core.progress import Progress


@dataclass
class Errors:
    classes: list[str]
    confusion: np.ndarray  # (C, C) counts, rows true, columns predicted
    per_class: list[float]  # accuracy per true class
    misclassified: np.ndarray  # row indices into the labelled samples
    predicted: np.ndarray  # the prediction for each of `misclassified`
    accuracy: float


def finetune_predictors(run, samples: SampleSet, rows: np.ndarray | None = None, seed: int = 0,
                        device: str = "auto") -> dict[str, Callable]:
    """Predictors `predict(train, train_labels, test, seed)` that fine-tune the run ("ssl") and a
    random-init copy ("random_init") per draw. `rows` maps the indices they are given to samples
    (a labelled subset); by default they index the samples directly."""
    from sslstudio.core.evaluation.finetune import finetune_predict

    rows = np.arange(len(samples)) if rows is None else np.asarray(rows)

    def tuned(model_run):
        return lambda train, y, test, s: finetune_predict(model_run, samples, rows[train], y, rows[test], s,
                                                          device=device)

    return {"ssl": tuned(run), "random_init": tuned(run.with_random_backbone(seed))}


def errors(features, labels: Sequence[str], method: str = "linear", seed: int = 0,
           splits: Sequence[str | None] | None = None, groups: Sequence[str] | None = None) -> Errors:
    """Train on the whole pool (every labelled sample outside the held-out test set), test on the rest."""
    labels = np.asarray(labels)
    pools, test = holdout(labels, seed, splits, groups=groups)
    train = np.sort(np.concatenate(list(pools.values())))
    predicted = predict(features, labels, train, test, method, seed)
    classes = sorted(set(labels[train].tolist()) | set(labels[test].tolist()))
    lookup = {name: i for i, name in enumerate(classes)}
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(confusion, ([lookup[c] for c in labels[test]], [lookup[c] for c in predicted]), 1)
    totals = confusion.sum(axis=1)
    per_class = [float(confusion[i, i] / totals[i]) if totals[i] else float("nan") for i in range(len(classes))]
    wrong = predicted != labels[test]
    return Errors(classes, confusion, per_class, test[wrong], predicted[wrong], float((~wrong).mean()))


def evaluate(features: dict[str, np.ndarray], labels: Sequence[str], shots: Sequence[int] = SHOTS,
             seeds: Sequence[int] = (0, 1, 2), method: str = "linear", splits: Sequence[str | None] | None = None,
             progress: Progress | None = None, groups: Sequence[str] | None = None,
             on_point: Callable[[LabelCurve], None] | None = None,
             with_errors: bool = True) -> tuple[LabelCurve, Errors | None]:
    curve = label_efficiency(features, labels, shots, seeds, method, splits, progress, groups, on_point)
    return curve, errors(features["ssl"], labels, method, seeds[0], splits, groups) if with_errors else None

"""What the labels are worth, in one call: the label-efficiency curve against the baselines, and
where the model still errs (confusion matrix, per-class accuracy, the misclassified samples).

The Fine-tune page and `sslstudio curve` share it. Features are computed once per feature
set; every probe after that is a refit on cached arrays.
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


def feature_sets(run, samples: SampleSet, method: str = "linear", device: str = "auto", seed: int = 0,
                 baselines: bool = True, progress: Progress | None = None) -> dict:
    """The run's features and the two baselines every claim needs, on the same samples.

    For fine-tuning the run and its random-init copy are predictors that train per draw (the copy
    then is a supervised model from scratch); raw inputs stay a matrix for the linear probe. A large
    folder's matrices are files beside the run, read by rows (`FeatureFile`).
    """
    from sslstudio.core.embeddings.cache import CACHE_FOLDER, cached_vectors
    from sslstudio.core.embeddings.extract import compute_embeddings, feature_matrix, fits_in_memory  # torch
    from sslstudio.core.evaluation.probe import raw_features

    def matrix(name: str, compute) -> np.ndarray:
        folder = run.run_dir.path / CACHE_FOLDER / "probe"
        return feature_matrix(len(samples), compute, folder, f"{name}-{samples.fingerprint()}")

    raw = (lambda: matrix("raw", lambda into: raw_features(run, samples, into, progress))) if baselines else None
    if method == "finetune":
        sets = finetune_predictors(run, samples, seed=seed, device=device)
        return {**sets, "raw": raw()} if baselines else {"ssl": sets["ssl"]}
    if run.checkpoint is not None:  # the run's own embeddings: the per-checkpoint cache the map uses too
        sets = {"ssl": cached_vectors(run, samples, device, progress, in_memory=fits_in_memory(len(samples)))}
    else:
        sets = {"ssl": matrix("ssl", lambda into: compute_embeddings(run, samples, device=device, into=into,
                                                                      progress=progress))}
    if baselines:
        random_run = run.with_random_backbone(seed)
        sets.update(random_init=matrix(f"random{seed}", lambda into: compute_embeddings(
                        random_run, samples, device=device, into=into, progress=progress)),
                    raw=raw())
    return sets


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
             progress: Progress | None = None,
             groups: Sequence[str] | None = None) -> tuple[LabelCurve, Errors]:
    curve = label_efficiency(features, labels, shots, seeds, method, splits, progress, groups)
    return curve, errors(features["ssl"], labels, method, seeds[0], splits, groups)

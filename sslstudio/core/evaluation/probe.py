"""Few-label probes on frozen features, with the baselines every claim needs.

Protocol: K labelled samples per class drawn with a seed, tested on the rest
(or on the CSV's test rows). The same draw scores the SSL backbone, a randomly
initialised copy of it, and the raw inputs, so the numbers compare directly.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from sslstudio.core.data.dataset import SampleSet
from sslstudio.core.data.labels import few_shot_split
from sslstudio.core.errors import UserError
from sslstudio.core.evaluation.classifiers import narrowed, predict
from sslstudio.core.evaluation.label_efficiency import LabelCurve, answering, evaluation_rows
from sslstudio.core.evaluation.settings import MAX_SAMPLES
from sslstudio.core.evaluation.settings import PROBE_METHODS as METHODS
from sslstudio.core.progress import Progress, start_phase
from sslstudio.core.training.session import LoadedRun
from sslstudio.core.training.tensorboard import record_probe


def score(features, labels: np.ndarray, train: np.ndarray, test: np.ndarray, method: str, seed: int) -> float:
    if method not in METHODS:
        raise UserError(f"unknown probe method {method!r}; choose one of {', '.join(METHODS)}")
    return float((predict(features, labels, train, test, method, seed) == labels[test]).mean())


RAW_GRID = (32, 32)  # images: pixels averaged down to at most 32 x 32; audio: at most 100 log-mel frames


def raw_features(run: LoadedRun, samples: SampleSet, progress: Progress | None = None) -> np.ndarray:
    """The raw-input baseline: pixels (at most 32 x 32), the log-mel spectrogram (at most 100 frames),
    or TF-IDF of words. Inputs are read a batch at a time."""
    if run.modality == "text":
        from sklearn.feature_extraction.text import TfidfVectorizer

        tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        return tfidf.fit_transform(samples.texts()).toarray().astype(np.float32)
    from sslstudio.core.embeddings.extract import per_batch

    preprocess = run.pipeline.preprocess.cpu()

    def pooled(raw: torch.Tensor) -> np.ndarray:
        inputs = preprocess(raw)
        height, width = inputs.shape[-2:]
        grid = (min(height, RAW_GRID[0]), min(width, RAW_GRID[1])) if run.modality == "image" \
            else (height, min(width, 100))
        return F.adaptive_avg_pool2d(inputs, grid).flatten(1).numpy()

    with torch.no_grad():
        return per_batch(run.pipeline, samples, pooled, progress=progress)


def probe(run: LoadedRun, samples: SampleSet, per_class: int, method: str = "linear", seed: int = 0,
          baselines: bool = False, device: str = "auto", max_samples: int = MAX_SAMPLES,
          progress: Progress | None = None) -> dict:
    """One few-label score. With `baselines`: the same draw on a random-init copy (for fine-tuning,
    that is a supervised model trained from scratch) and on raw inputs. `max_samples` > 0: past that many
    labelled samples, a stratified draw of them is used (the result's `note` says so)."""
    from sslstudio.core.evaluation.features import feature_sets
    from sslstudio.core.evaluation.report import finetune_predictors

    if method not in METHODS:
        raise UserError(f"unknown probe method {method!r}; choose one of {', '.join(METHODS)}")
    labels = np.array([label or "" for label in samples.labels])
    rows = evaluation_rows(labels, max_samples, seed)
    groups = samples.groups()
    train, test = few_shot_split(labels[rows], per_class, seed, [samples.splits[i] for i in rows]
                                 if samples.splits else None, None if groups is None else groups[rows])
    sets = feature_sets(run, samples, device, seed, baselines=baselines)
    names = ["ssl", "random_init", "raw"] if baselines else ["ssl"]
    tuned = finetune_predictors(run, samples, rows, seed, device) if method == "finetune" else {}
    scores, widths = {}, {}
    for name in names:
        features = tuned[name] if name in tuned else sets[name].take(rows, progress)
        if method != "knn" and not callable(features):  # a linear probe on wide features: their principal components
            features, width = narrowed(features, seed)
            if width > features.shape[1]:
                widths[name] = width
        start_phase(progress, f"fitting the probe ({name})", "%")
        scores[name] = answering(progress, 0, score, features, labels[rows], train, test, method, seed)
        if progress is not None:
            progress(100, 100)
    n_labelled = int((labels != "").sum())
    result = {"method": method, "accuracy": scores["ssl"], "n_train": int(len(train)), "n_test": int(len(test)),
              "per_class": per_class, "classes": sorted(set(labels[rows].tolist())), "seed": seed,
              "n_labelled": n_labelled,
              "note": LabelCurve([], method=method, n_used=len(rows), n_labelled=n_labelled, narrowed=widths).note()}
    if baselines:
        result["baselines"] = {name: scores[name] for name in ("random_init", "raw")}
    record_probe(run, result)  # beside the run's curves in TensorBoard, when it is installed
    return result

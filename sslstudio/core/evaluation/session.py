"""What the Fine-tune page evaluates, and what each change makes stale, without Qt.

The expensive part is the features: the run's, a random-init copy's and the raw inputs', of every labelled
sample. They depend on the run, its checkpoint, the folder and the label source (folder or CSV), and not
on the labels made in the app, so evaluating again after labelling refits on the arrays already computed.
Another folder or CSV drops them. Torch, scikit-learn and the rest load inside the functions that need
them, so the GUI can import this module before torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sslstudio.core.data.labels import merged_labels
from sslstudio.core.evaluation.settings import CurveSettings
from sslstudio.core.progress import Progress


@dataclass(frozen=True)
class FeatureKey:
    """What the features were computed from."""

    run: Path
    checkpoint: str | None
    folder: Path
    modality: str
    csv: str | None


@dataclass
class EvaluationSession:
    folder: Path | None = None
    modality: str = "image"
    csv: str | None = None  # a labels CSV that replaces the folder's labels
    key: FeatureKey | None = None
    loaded: object | None = None  # LoadedRun
    samples: object | None = None  # SampleSet
    features: dict[str, np.ndarray] | None = None  # "ssl", "random_init", "raw"
    rows: np.ndarray | None = None  # the labelled samples of the last evaluation
    curve: object | None = None  # LabelCurve
    errors: object | None = None  # ErrorReport

    @property
    def ready(self) -> bool:
        """Features are computed: suggestions, labelling and export can use them."""
        return self.features is not None

    def set_folder(self, folder: Path, modality: str) -> None:
        if self.folder != Path(folder) or self.modality != modality:
            self.features = None
        self.folder, self.modality = Path(folder), modality

    def set_csv(self, path: str) -> None:
        self.csv, self.features = path, None

    def key_for(self, run: Path, checkpoint: str | None) -> FeatureKey:
        return FeatureKey(Path(run), checkpoint, self.folder, self.modality, self.csv)

    def cached(self, key: FeatureKey) -> tuple | None:
        """(loaded run, samples, features) when they were computed for `key`, else None."""
        return (self.loaded, self.samples, self.features) if self.ready and key == self.key else None

    def set_evaluation(self, key: FeatureKey, computed: tuple, rows: np.ndarray, curve, errors) -> None:
        self.key = key
        self.loaded, self.samples, self.features = computed
        self.rows, self.curve, self.errors = rows, curve, errors

    def labels(self, app_labels: dict[str, str]) -> np.ndarray:
        """Every sample's class, a label made in the app (the project's) winning over the folder's or CSV's;
        "" when none."""
        return merged_labels(self.samples, app_labels)

    def label(self, sample_rows: list[int], name: str, app_labels: dict[str, str]) -> dict[str, str]:
        """The app's labels once these samples have the class `name`."""
        return {**app_labels, **{self.samples.ids[row]: name for row in sample_rows}}


def load_features(key: FeatureKey, progress: Progress | None = None) -> tuple:
    """The labelled samples (folder labels, or the CSV's) and their three feature sets, for `key`."""
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.data.labels import load_labelled
    from sslstudio.core.evaluation.report import feature_sets  # torch
    from sslstudio.core.training.session import load_run  # torch

    loaded = load_run(key.run, key.checkpoint)
    spec = loaded.pipeline.spec
    samples = load_labelled(key.csv, key.modality, spec) if key.csv else \
        load_folder(key.folder, key.modality, spec=spec, progress=progress)
    return loaded, samples, feature_sets(loaded, samples, progress=progress)


def evaluate_labels(computed: tuple, app_labels: dict[str, str], settings: CurveSettings,
                    progress: Progress | None = None) -> tuple[np.ndarray, object, object]:
    """The label-efficiency curve and the error report on every labelled sample: (rows, curve, errors)."""
    from sslstudio.core.evaluation.report import evaluate, finetune_predictors  # torch, scikit-learn

    loaded, samples, features = computed
    labels = merged_labels(samples, app_labels)
    rows = np.flatnonzero(labels != "")
    subset = {name: matrix[rows] for name, matrix in features.items()}
    if settings.method == "finetune":  # the run and a from-scratch copy train per draw; raw stays linear
        subset.update(finetune_predictors(loaded, samples, rows))
    groups = samples.groups()
    curve, errors = evaluate(subset, labels[rows], list(settings.shots), list(settings.seeds), settings.method,
                             [samples.splits[i] for i in rows] if samples.splits else None, progress=progress,
                             groups=None if groups is None else groups[rows])
    return rows, curve, errors

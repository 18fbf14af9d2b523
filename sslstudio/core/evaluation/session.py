"""What the Fine-tune page evaluates, and what each change makes stale, without Qt.

The expensive part is the features: the run's, a random-init copy's and the raw inputs', of the labelled
samples an evaluation uses (`features.RowFeatures`: computed for those rows only, and kept). They depend on
the run, its checkpoint, the folder and the label source (folder or CSV), and not on the labels made in the
app, so evaluating again after labelling computes only the new rows and refits. Another folder or CSV drops
them. Torch, scikit-learn and the rest load inside the functions that need
them, so the GUI can import this module before torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sslstudio.core.data.labels import merged_labels
from sslstudio.core.evaluation.classifiers import narrowed
from sslstudio.core.evaluation.label_efficiency import LabelCurve, evaluation_rows, holdout
from sslstudio.core.evaluation.settings import CurveSettings
from sslstudio.core.progress import Progress, start_phase


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
    features: dict | None = None  # "ssl", "random_init", "raw": RowFeatures, each computed for the rows asked
    rows: np.ndarray | None = None  # the labelled samples of the last evaluation (all, or a draw of them)
    curve: object | None = None  # LabelCurve
    errors: object | None = None  # ErrorReport

    @property
    def ready(self) -> bool:
        """An evaluation is done: suggestions, labelling and export can use its run and features."""
        return self.features is not None and self.curve is not None

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
    """The run, the labelled samples (folder labels, or the CSV's) and their three feature sets for `key`, which
    compute their rows when an evaluation asks for them."""
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.data.labels import load_labelled
    from sslstudio.core.evaluation.features import feature_sets  # torch
    from sslstudio.core.training.session import load_run  # torch

    start_phase(progress, "loading the run")
    loaded = load_run(key.run, key.checkpoint)
    spec = loaded.pipeline.spec
    start_phase(progress, "decoding")
    samples = load_labelled(key.csv, key.modality, spec) if key.csv else \
        load_folder(key.folder, key.modality, spec=spec, progress=progress)
    return loaded, samples, feature_sets(loaded, samples)


def evaluate_labels(computed: tuple, app_labels: dict[str, str], settings: CurveSettings,
                    progress: Progress | None = None, on_point=None, with_errors: bool = True,
                    device: str = "auto") -> tuple[np.ndarray, LabelCurve, object]:
    """The label-efficiency curve and the error report on the labelled samples: (rows, curve, errors).

    The rows are every labelled sample, or past `settings.max_samples` a stratified draw of them, which the
    curve states (`LabelCurve.note`). `on_point(curve so far)` follows the points as they are measured."""
    from sslstudio.core.evaluation.report import evaluate, finetune_predictors  # torch, scikit-learn

    loaded, samples, features = computed
    labels = merged_labels(samples, app_labels)
    rows = evaluation_rows(labels, settings.max_samples)
    n_labelled = int((labels != "").sum())
    groups, splits = samples.groups(), [samples.splits[i] for i in rows] if samples.splits else None
    # A curve needs two classes that can be tested: said in one line before any feature is computed.
    holdout(labels[rows], settings.seeds[0], splits, groups=None if groups is None else groups[rows])
    # Fine-tuning trains the run and a from-scratch copy per draw: only raw inputs stay a matrix (linear probe).
    names = ("raw",) if settings.method == "finetune" else tuple(features)
    subset = {name: features[name].take(rows, progress) for name in names if name in features}
    widths = {}
    if settings.method != "knn":  # a linear probe on wide features: their principal components
        start_phase(progress, "reducing wide features", stoppable=False)
        for name in subset:
            subset[name], width = narrowed(subset[name])
            if width > subset[name].shape[1]:
                widths[name] = width
    if settings.method == "finetune":
        subset = {**finetune_predictors(loaded, samples, rows, device=device), **subset}

    def sized(curve: LabelCurve) -> LabelCurve:
        curve.n_used, curve.n_labelled, curve.narrowed = len(rows), n_labelled, widths
        return curve

    start_phase(progress, "fitting probes", "%")
    curve, errors = evaluate(subset, labels[rows], list(settings.shots), list(settings.seeds), settings.method,
                             splits, progress=progress,
                             groups=None if groups is None else groups[rows],
                             on_point=None if on_point is None else lambda c: on_point(sized(c)),
                             with_errors=with_errors)
    return rows, sized(curve), errors

"""The feature sets a probe compares, computed only for the samples it uses.

A probe or a curve scores the run's embeddings against a random-init copy of its backbone and the raw
inputs. Each is needed only on the labelled samples the evaluation uses (at most `max_samples` of them,
a stratified draw), not on the whole folder: a 100k-image folder with 10k labels costs 10k forward
passes per baseline, not 100k. `RowFeatures` computes the rows asked for and keeps them, so evaluating
again after labelling more in the app computes only the new ones. Torch loads inside the functions.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sslstudio.core.data.dataset import SampleSet
from sslstudio.core.progress import Progress, start_phase

Compute = Callable[[SampleSet, "Progress | None"], np.ndarray]  # (the rows' samples, progress) -> (n, D)

# What each feature set is called while it is computed (the phase's name on a progress bar).
PHASE_NAMES = {"ssl": "embedding with the run", "random_init": "embedding with a random-init copy",
               "raw": "raw inputs"}


class RowFeatures:
    """One feature set of `samples`, computed for the rows asked for and kept.

    `whole`: the features of a row depend on the others (TF-IDF learns its vocabulary from the texts), so
    asking for new rows recomputes all the rows kept, together."""

    def __init__(self, name: str, samples: SampleSet, compute: Compute, whole: bool = False):
        self.name, self.samples, self.compute, self.whole = name, samples, compute, whole
        self.rows = np.empty(0, dtype=np.int64)
        self.matrix: np.ndarray | None = None

    def take(self, rows: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        """(len(rows), D) features of these samples, in the order of `rows`."""
        rows = np.asarray(rows, dtype=np.int64)
        new = np.setdiff1d(rows, self.rows)
        if len(new):
            start_phase(progress, PHASE_NAMES.get(self.name, self.name))
            if self.whole or self.matrix is None:
                union = np.union1d(self.rows, new)
                self.matrix, self.rows = self.compute(self.samples.subset(union), progress), union
            else:
                added = self.compute(self.samples.subset(new), progress)
                union = np.union1d(self.rows, new)
                matrix = np.empty((len(union), self.matrix.shape[1]), dtype=self.matrix.dtype)
                matrix[np.searchsorted(union, self.rows)] = self.matrix
                matrix[np.searchsorted(union, new)] = added
                self.matrix, self.rows = matrix, union
        return self.matrix[np.searchsorted(self.rows, rows)]

    def __getitem__(self, rows) -> np.ndarray:
        """Rows as an array indexes them (the export's head reads its training rows so)."""
        return self.take(np.arange(len(self.samples))[rows])

    def __len__(self) -> int:
        return len(self.samples)


def feature_sets(run, samples: SampleSet, device: str = "auto", seed: int = 0,
                 baselines: bool = True) -> dict[str, RowFeatures]:
    """The run's features and the two baselines every claim needs ("ssl", "random_init", "raw"), each
    computed when its rows are first asked for. The run's own rows come from the per-checkpoint cache the
    map fills, when it holds these samples."""
    from sslstudio.core.embeddings.cache import cached_rows
    from sslstudio.core.embeddings.extract import compute_embeddings  # torch
    from sslstudio.core.evaluation.probe import raw_features

    def embedded(model_run) -> Compute:
        return lambda subset, progress: compute_embeddings(model_run, subset, device=device, progress=progress)

    ssl = RowFeatures("ssl", samples, embedded(run))
    if run.checkpoint is not None:
        cached = cached_rows(run, samples)
        if cached is not None:
            ssl.rows, ssl.matrix = np.arange(len(samples)), cached  # read by rows, never whole
    sets = {"ssl": ssl}
    if baselines:
        random_run = run.with_random_backbone(seed)
        sets["random_init"] = RowFeatures("random_init", samples, embedded(random_run))
        sets["raw"] = RowFeatures("raw", samples, lambda subset, progress: raw_features(run, subset,
                                                                                      progress=progress),
                                  whole=run.modality == "text")
    return sets

"""The probe behind label-by-selection, and which samples to label next.

`ProbeFit` is a linear probe refitted on cached features whenever labels change
(about 0.1-0.5 s for 1k labels), giving a predicted class and a confidence for
every sample, so the map can be coloured by them at once.

`suggest` picks samples to label next by uncertainty and diversity: the most
uncertain unlabelled samples under the probe (smallest margin between its two
most likely classes) are shortlisted, then a greedy k-centre pass over the
shortlist picks ones far from the labelled set and from each other (Sener &
Savarese 2018), so a batch does not spend its labels on near-duplicates. With
fewer than two classes labelled there is no probe yet; the pick is then by
diversity alone, which covers the data.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sslstudio.core.embeddings.neighbours import NeighbourIndex
from sslstudio.core.evaluation.classifiers import fit_linear

SHORTLIST_FACTOR = 5
INTERACTIVE_TOL = 1e-3  # refits follow every labelling, so they trade a little precision for speed


@dataclass
class ProbeFit:
    classes: np.ndarray  # (C,) class names
    probabilities: np.ndarray  # (N, C) for every sample
    predicted: np.ndarray  # (N,) class names
    confidence: np.ndarray  # (N,) probability of the predicted class

    @property
    def margin(self) -> np.ndarray:
        """Top-1 minus top-2 probability: small means the probe hesitates."""
        if self.probabilities.shape[1] < 2:
            return np.ones(len(self.probabilities))
        top2 = np.sort(self.probabilities, axis=1)[:, -2:]
        return top2[:, 1] - top2[:, 0]


def fit_probe(features: np.ndarray, labelled: Sequence[int], labels: Sequence[str], seed: int = 0) -> ProbeFit:
    """A linear probe on the labelled rows, applied to every row."""
    labelled = np.asarray(labelled, dtype=np.int64)
    labels = np.asarray(labels)
    if len(set(labels.tolist())) < 2:
        raise ValueError("a probe needs labels of at least two classes")
    model = fit_linear(features[labelled], labels, seed, tol=INTERACTIVE_TOL)
    probabilities = model.predict_proba(features)
    classes = model.classes_
    best = probabilities.argmax(axis=1)
    return ProbeFit(classes, probabilities, classes[best], probabilities[np.arange(len(best)), best])


def suggest(features: np.ndarray, labelled: Sequence[int], labels: Sequence[str], count: int = 12,
            seed: int = 0) -> np.ndarray:
    """Up to `count` unlabelled row indices to label next, most useful first."""
    labelled = np.asarray(labelled, dtype=np.int64)
    unlabelled = np.setdiff1d(np.arange(len(features)), labelled)
    if len(unlabelled) == 0 or count <= 0:
        return np.empty(0, dtype=np.int64)
    if len(set(np.asarray(labels).tolist())) >= 2:
        margin = fit_probe(features, labelled, labels, seed).margin[unlabelled]
        shortlist = unlabelled[np.argsort(margin, kind="stable")[:count * SHORTLIST_FACTOR]]
    else:
        shortlist = unlabelled
    return _k_centre(NeighbourIndex(features).unit, shortlist, labelled, count, seed)


def _k_centre(unit: np.ndarray, candidates: np.ndarray, chosen: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Greedily take the candidate farthest (in cosine distance) from everything chosen so far."""
    picked = []
    if len(chosen):
        distance = 1 - np.max(unit[candidates] @ unit[chosen].T, axis=1)
    else:  # nothing labelled yet: start from a seeded random candidate
        first = int(np.random.default_rng(seed).integers(len(candidates)))
        picked.append(int(candidates[first]))
        distance = 1 - unit[candidates] @ unit[candidates[first]]
        distance[first] = -np.inf
    while len(picked) < min(count, len(candidates)):
        best = int(np.argmax(distance))
        picked.append(int(candidates[best]))
        distance = np.minimum(distance, 1 - unit[candidates] @ unit[candidates[best]])
        distance[best] = -np.inf
    return np.array(picked, dtype=np.int64)

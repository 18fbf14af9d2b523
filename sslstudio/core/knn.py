"""Weighted cosine kNN on plain arrays: the vote the kNN probe (core/evaluation) and the online monitor
(core/training) both use. A leaf module, so neither package imports the other for it."""
from __future__ import annotations

import numpy as np

KNN_K = 20
KNN_TEMPERATURE = 0.07


def knn_predict(train: np.ndarray, y_train: np.ndarray, test: np.ndarray, k: int = KNN_K) -> np.ndarray:
    """Cosine kNN with similarity-weighted votes (Wu et al. 2018), the usual SSL protocol.

    Features are centred on the labelled set's mean before the cosine (CL2N,
    SimpleShot, Wang et al. 2019). Pooled post-ReLU features share a large
    positive component that puts every cosine near 1; centring removes it, and
    it helps raw pixels slightly too, so every feature type gets it.
    """
    centre = train.mean(axis=0, keepdims=True)
    train, test = train - centre, test - centre
    train = train / np.linalg.norm(train, axis=1, keepdims=True).clip(min=1e-12)
    test = test / np.linalg.norm(test, axis=1, keepdims=True).clip(min=1e-12)
    classes, y_index = np.unique(y_train, return_inverse=True)
    k = min(k, len(train))
    predictions = []
    for start in range(0, len(test), 4096):
        similarity = test[start:start + 4096] @ train.T
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        weights = np.exp(np.take_along_axis(similarity, nearest, 1) / KNN_TEMPERATURE)
        votes = np.zeros((len(nearest), len(classes)))
        np.add.at(votes, (np.arange(len(nearest))[:, None], y_index[nearest]), weights)
        predictions.append(classes[votes.argmax(1)])
    return np.concatenate(predictions)

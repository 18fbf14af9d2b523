"""The two classifiers every probe uses, on plain arrays: weighted cosine kNN (core/knn.py, which the
training's online monitor shares) and logistic regression."""
from __future__ import annotations

import numpy as np

from sslstudio.core.knn import knn_predict


def fit_linear(train: np.ndarray, y_train: np.ndarray, seed: int = 0, tol: float = 1e-4):
    """Multinomial logistic regression on standardised features (a scikit-learn pipeline).

    `tol` is lbfgs's stopping tolerance; the interactive refit uses 1e-3, which is about 3x
    faster and moved accuracy by 0.2 points on Fashion-MNIST (bench/probe_refit.py)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, tol=tol, random_state=seed))
    return model.fit(train, y_train)


def linear_predict(train, y_train, test, seed: int) -> np.ndarray:
    return fit_linear(train, y_train, seed).predict(test)


TEST_CHUNK = 8192


def predict(features, labels: np.ndarray, train: np.ndarray, test: np.ndarray, method: str, seed: int) -> np.ndarray:
    """Predicted classes of the test rows. `features` is a matrix (rows = samples; an array or a
    `FeatureFile` read by rows) for kNN and linear probes, or a callable
    `predict(train_rows, train_labels, test_rows, seed)` for a model trained per draw (fine-tuning).
    A matrix under the fine-tuning protocol (raw inputs) gets the linear probe. Test rows are read
    and scored in chunks, so a large folder's features never sit in memory whole."""
    if callable(features):
        return features(train, labels[train], test, seed)
    x_train, y_train = features[train], labels[train]
    model = None if method == "knn" else fit_linear(x_train, y_train, seed)
    chunks = []
    for start in range(0, len(test), TEST_CHUNK):
        x_test = features[test[start:start + TEST_CHUNK]]
        chunks.append(knn_predict(x_train, y_train, x_test) if model is None else model.predict(x_test))
    return np.concatenate(chunks) if chunks else np.array([], dtype=labels.dtype)

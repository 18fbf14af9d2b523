"""The two classifiers every probe uses, on plain arrays: weighted cosine kNN (core/knn.py, which the
training's online monitor shares) and logistic regression.

A probe's logistic regression costs samples x width x classes per lbfgs iteration, and wide features also
need more iterations: 7,000 raw 32 x 32 colour images (3,072 values) took minutes per fit where 448-d
embeddings took seconds. So features wider than `PROBE_WIDTH` are first reduced to that many principal
components of the evaluated samples (unsupervised, as the pretraining itself saw every sample unlabelled),
and probes stop lbfgs at a tolerance of 1e-3 (bench/finetune_scale.py). Both are said where they apply."""
from __future__ import annotations

import numpy as np

from sslstudio.core.knn import knn_predict

PROBE_WIDTH = 512  # features wider than this are reduced to this many principal components for a probe
PROBE_TOL = 1e-3  # lbfgs's tolerance in probes and curves (the export's head keeps fit_linear's 1e-4)


def narrowed(matrix: np.ndarray, seed: int = 0) -> tuple[np.ndarray, int]:
    """(the matrix, or its first PROBE_WIDTH principal components when it is wider; its original width)."""
    width = matrix.shape[1]
    if width <= PROBE_WIDTH or len(matrix) <= PROBE_WIDTH:
        return matrix, width
    from sklearn.decomposition import PCA

    pca = PCA(PROBE_WIDTH, svd_solver="randomized", random_state=seed)
    return pca.fit_transform(np.asarray(matrix, dtype=np.float32)).astype(np.float32), width


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
    model = None if method == "knn" else fit_linear(x_train, y_train, seed, tol=PROBE_TOL)
    chunks = []
    for start in range(0, len(test), TEST_CHUNK):
        x_test = features[test[start:start + TEST_CHUNK]]
        chunks.append(knn_predict(x_train, y_train, x_test) if model is None else model.predict(x_test))
    return np.concatenate(chunks) if chunks else np.array([], dtype=labels.dtype)

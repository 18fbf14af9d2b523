"""Nearest neighbours by (centred) cosine similarity in the embedding space, and k-means clusters.

Exact search: the vectors are L2-normalised once, and a query is one matrix-vector
product and a partial sort. At 100k x 512 that is about 10 ms per query on two
CPU cores, which is fast enough for a click; an approximate index would add a
dependency and a build step for no visible gain at this scale.
"""
from __future__ import annotations

import numpy as np


class NeighbourIndex:
    """Vectors are centred on their mean before the cosine, as the kNN probe does (CL2N): pooled
    post-ReLU features share a large positive component that puts every plain cosine near 1."""

    def __init__(self, vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float32)
        self.centre = vectors.mean(axis=0)
        centred = vectors - self.centre
        self.unit = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)

    def __len__(self) -> int:
        return len(self.unit)

    def query(self, row: int, k: int = 12) -> tuple[np.ndarray, np.ndarray]:
        """The k rows most similar to `row` (itself excluded), most similar first, with their cosines."""
        similarity = self.unit @ self.unit[row]
        similarity[row] = -np.inf
        return _top(similarity, k)

    def query_vector(self, vector: np.ndarray, k: int = 12) -> tuple[np.ndarray, np.ndarray]:
        unit = np.asarray(vector, dtype=np.float32) - self.centre
        unit = unit / max(float(np.linalg.norm(unit)), 1e-12)
        return _top(self.unit @ unit, k)


def _top(similarity: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, int(np.isfinite(similarity).sum()))
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    nearest = np.argpartition(-similarity, k - 1)[:k]
    nearest = nearest[np.argsort(-similarity[nearest], kind="stable")]
    return nearest, similarity[nearest]


NEAR_ONE = 0.995  # a list whose best cosine lies above this reads as distances: 0.9981 and 0.9994 both look like 1


def similarity_words(similarity: np.ndarray) -> list[str]:
    """How alike each neighbour is, in words that tell neighbours apart: the cosine to three decimals, or when
    the nearest lie within 0.005 of 1, the cosine distance (1 - cosine) to three significant digits."""
    similarity = np.asarray(similarity, dtype=np.float64)
    if len(similarity) and similarity.max() > NEAR_ONE:
        return [f"distance {max(1 - value, 0.0):.3g}" for value in similarity]
    return [f"cosine {value:.3f}" for value in similarity]


def kmeans_clusters(vectors: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Cluster ids (N,) from k-means on L2-normalised vectors (spherical, as the neighbours are cosine)."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    unit = NeighbourIndex(vectors).unit
    k = max(1, min(k, len(unit)))
    model = (MiniBatchKMeans(k, random_state=seed, n_init=3, batch_size=4096) if len(unit) > 20_000
             else KMeans(k, random_state=seed, n_init=3))
    return model.fit_predict(unit).astype(np.int32)

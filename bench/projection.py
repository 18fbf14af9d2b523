"""2-D projections at scale. Targets: PCA of 100k x 128 in <= 1 s; t-SNE of 10k points in <= 60 s on 2 cores.

Vectors: the 70,000 Fashion-MNIST images (the shared recipe), as pixels mapped to 128
dimensions by a fixed random projection, plus 30,000 jittered copies to reach 100k.
Also reports UMAP at 10k, t-SNE's subsample-and-transform at 100k (its default cap),
and how well each 2-D map keeps the classes (5-NN accuracy in the map; chance 0.1).
"""
import time

import numpy as np
from _common import CACHE, recipe, report


def fashion_pixels() -> tuple[np.ndarray, np.ndarray]:
    cached = CACHE / "fashion_pixels.npz"
    if not cached.is_file():
        import csv

        from PIL import Image

        root = recipe("fashion_mnist_debian")
        rows = list(csv.DictReader(open(root / "manifest.csv")))
        pixels = np.stack([np.asarray(Image.open(root / r["labelled_path"]), dtype=np.uint8).ravel() for r in rows])
        np.savez(cached, pixels=pixels, labels=np.array([r["label"] for r in rows]))
    with np.load(cached) as data:
        return data["pixels"].astype(np.float32) / 255, data["labels"]


def map_knn(coords: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    rows = np.arange(len(coords))
    model = KNeighborsClassifier(5).fit(coords[rows[::2]], labels[rows[::2]])
    return float((model.predict(coords[rows[1::2]]) == labels[rows[1::2]]).mean())


def main() -> None:
    from sslstudio.core.embeddings.projection import project

    pixels, labels = fashion_pixels()
    rng = np.random.default_rng(0)
    vectors = pixels @ rng.normal(size=(pixels.shape[1], 128)).astype(np.float32)
    extra = vectors[:30_000] + rng.normal(scale=0.05, size=(30_000, 128)).astype(np.float32)
    vectors, labels = np.vstack([vectors, extra]), np.concatenate([labels, labels[:30_000]])
    figures = {}
    t0 = time.perf_counter()
    project(vectors[:1000], "pca")  # the first call imports scikit-learn: timed apart
    figures["first_call_import_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    pca = project(vectors, "pca")
    figures["pca_100k_s"] = round(time.perf_counter() - t0, 2)
    figures["pca_map_knn"] = round(map_knn(pca.coords[:10_000], labels[:10_000]), 3)
    for method in ("tsne", "umap"):
        t0 = time.perf_counter()
        result = project(vectors[:10_000], method, cap=0)
        figures[f"{method}_10k_s"] = round(time.perf_counter() - t0, 1)
        figures[f"{method}_map_knn"] = round(map_knn(result.coords, labels[:10_000]), 3)
    t0 = time.perf_counter()
    capped = project(vectors, "tsne")  # default cap: fitted on 20k, the other 80k placed by transform
    figures["tsne_100k_capped_s"] = round(time.perf_counter() - t0, 1)
    figures["tsne_100k_capped_fitted_on"] = capped.fitted_on
    print(", ".join(f"{k} {v}" for k, v in figures.items()))
    report("projection", "PCA 100k x 128 <= 1 s; t-SNE 10k <= 60 s on 2 cores",
           figures["pca_100k_s"] <= 1.0 and figures["tsne_10k_s"] <= 60, **figures)


if __name__ == "__main__":
    main()

"""2-D maps of embeddings: PCA (scikit-learn), t-SNE (openTSNE) and UMAP (umap-learn).

Why these libraries: scikit-learn's randomised PCA projects 100k x 128 in well
under a second. openTSNE's FFT-accelerated t-SNE is several times faster than
scikit-learn's Barnes-Hut at 10k+ points, uses every core, and, unlike
scikit-learn, can place new points into a finished map (`transform`). umap-learn
is the reference UMAP and has `transform` too.

No silent caps: a method that would take too long on every point is fitted on a
seeded random subsample of `cap` points, and the rest are placed with the
fitted map's `transform`. The result says so in `note`, and the caller can
raise the cap (or pass cap=0 for no cap).

Vectors are centred and L2-normalised first, matching the cosine neighbours, and
reduced to 50 principal components before t-SNE and UMAP (the usual practice,
Kobak & Berens 2019), which speeds them up without changing the picture.

A fit takes minutes at real size, so `project` names each phase as it starts (`start_phase`) and reports
its progress where the library gives one: openTSNE's optimisation callbacks, and umap's epoch
progress bar (tqdm), whose text is read for the epoch count. A report raises `Cancelled` once the
job is cancelled, which stops either optimisation mid-way. The neighbour search before either
optimisation offers no hook, so that phase says it cannot be stopped.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sslstudio.core.errors import UserError
from sslstudio.core.progress import Progress, release_bars_lock, start_phase, tame_tqdm
from sslstudio.core.settings import Settings, setting

METHODS = ("pca", "tsne", "umap")
DEFAULT_CAPS = {"pca": 0, "tsne": 20_000, "umap": 50_000}  # 0: no cap
NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
PRE_PCA_DIMS = 50
PLACE_CHUNK = 5_000  # points placed with the transform between two progress reports (and cancel checks)



@dataclass(frozen=True)
class ProjectionSettings(Settings):
    """The Embeddings page's map settings, declared once (core/settings.py)."""

    method: str = setting("pca", "PCA: linear and instant. t-SNE: local neighbourhoods. UMAP: local and some "
                                 "global structure.", choices=METHODS, choice_names=NAMES, label="map")
    cap: int | None = setting(None, "Fit t-SNE or UMAP on at most this many points and place the rest with the "
                                    "fitted map's transform; 0 fits on every point.", min=0, max=100_000_000,
                              none_means=f"{DEFAULT_CAPS['tsne']:,} t-SNE, {DEFAULT_CAPS['umap']:,} UMAP",
                              label="fit on at most")
    clusters: int = setting(10, "How many k-means clusters colouring by cluster shows.", min=2, max=100)


@dataclass
class Projection:
    coords: np.ndarray  # (N, 2) float32
    method: str
    fitted_on: int  # points the method was fitted on; the rest were placed with its transform
    note: str  # what the user must know about how the map was made, or ""


def normalise(vectors: np.ndarray) -> np.ndarray:
    centred = np.asarray(vectors, dtype=np.float32) - np.asarray(vectors, dtype=np.float32).mean(axis=0)
    return centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)


def project(vectors: np.ndarray, method: str = "pca", cap: int | None = None, seed: int = 0,
            progress: Progress | None = None) -> Projection:
    """A 2-D map of (N, D) vectors. `cap`: fit on at most this many points (None: the method's default).
    `progress` hears each phase as it starts (core/progress.py `start_phase`) and its progress, and may raise
    to stop it."""
    if method not in METHODS:
        raise UserError(f"unknown projection {method!r}; choose one of {', '.join(METHODS)}")
    count = len(vectors)
    if count < 3:
        raise UserError(f"a 2-D map needs at least 3 points, not {count}")
    cap = DEFAULT_CAPS[method] if cap is None else cap
    phase = lambda name, stoppable=True: start_phase(progress, name, stoppable=stoppable)  # noqa: E731
    progress = progress or (lambda done, total=0: None)
    phase(f"preparing {count:,} points for the map", stoppable=False)  # seconds at 100k: not a hang either
    data = normalise(vectors)
    if method != "pca" and data.shape[1] > PRE_PCA_DIMS:
        data = _pca(data, PRE_PCA_DIMS, seed)[0]
    fit_rows = np.arange(count)
    if cap and count > cap:
        fit_rows = np.sort(np.random.default_rng(seed).choice(count, cap, replace=False))
    coords = np.empty((count, 2), dtype=np.float32)
    rest = np.setdiff1d(np.arange(count), fit_rows, assume_unique=True)
    fitting = f"fitting the map ({NAMES[method]} on {len(fit_rows):,} points)"
    if method == "pca":
        phase(fitting, stoppable=False)  # well under a second at 100k points
        fitted, model = _pca(data[fit_rows], 2, seed)
    else:
        phase(f"{fitting}: finding each point's neighbours", stoppable=False)
        fit = _tsne if method == "tsne" else _umap
        fitted, model = fit(data[fit_rows], seed, _Reporter(progress, lambda: phase(fitting)))
    coords[fit_rows] = fitted
    if len(rest):
        phase(f"placing the other {len(rest):,} points on the map")
        progress(0, len(rest))
        for start in range(0, len(rest), PLACE_CHUNK):  # bounded memory, and a cancel check per chunk
            chunk = rest[start:start + PLACE_CHUNK]
            coords[chunk] = model.transform(data[chunk])
            progress(start + len(chunk), len(rest))
    note = ""
    if len(rest):
        note = (f"{NAMES[method]} was fitted on {len(fit_rows):,} of {count:,} points (a random sample, seed {seed}); "
                f"the other {len(rest):,} were placed with its transform. Raise the cap to fit on more.")
    return Projection(coords, method, len(fit_rows), note)


class _Reporter:
    """The libraries' progress hooks turned into `progress` reports: openTSNE's callbacks and umap's tqdm
    text. The first report starts the optimisation's phase (`started`). Once the fit is over (`fitted`),
    the transform's own optimisations are not reported: the transform reports per chunk instead."""

    EPOCHS = re.compile(r"(\d+)/(\d+)")

    def __init__(self, progress: Progress, started: Callable[[], None]):
        self.progress, self.started = progress, started
        self.begun = self.fitted = False
        self.stage_starts: list[int] = [0]  # openTSNE: where each optimisation stage starts in the total
        self.stage, self.total = -1, 0

    def report(self, done: int, total: int) -> None:
        if self.fitted:
            return
        if not self.begun:
            self.begun = True
            self.started()
        self.progress(done, total)

    # openTSNE runs two optimisations (early exaggeration, then the rest), each counting its iterations from 1
    def optimization_about_to_start(self) -> None:
        self.stage += 1

    def __call__(self, iteration: int, _error: float, _embedding) -> bool:
        start = self.stage_starts[min(max(self.stage, 0), len(self.stage_starts) - 1)]
        self.report(start + iteration, self.total)
        return False  # go on

    # umap: tqdm writes its epoch bar, formatted as "done/total", into this file
    def write(self, text: str) -> None:
        match = self.EPOCHS.search(text)
        if match:
            self.report(int(match[1]), int(match[2]))

    def flush(self) -> None:
        pass


def _pca(data: np.ndarray, dims: int, seed: int):
    from sklearn.decomposition import PCA

    dims = min(dims, *data.shape)
    # Embeddings are tall and narrow: the covariance's eigendecomposition (D x D) is 8x faster than a
    # randomised SVD at 100k x 128 and exact.
    solver = "covariance_eigh" if data.shape[1] <= 2048 and data.shape[0] >= 4 * data.shape[1] else "full"
    model = PCA(dims, svd_solver=solver, random_state=seed)
    return model.fit_transform(data).astype(np.float32), model


def _tsne(data: np.ndarray, seed: int, reporter: _Reporter):
    from openTSNE import TSNE

    perplexity = float(min(30, max(2, (len(data) - 1) // 3)))
    # The FFT gradient at every size, not openTSNE's default Barnes-Hut under 10k points: from openTSNE
    # 1.0.3 on, Barnes-Hut maps of 400 digits let `transform` misplace up to half the new points (1.0.2
    # placed 80-90 % among their class); the FFT maps are the same in 1.0.2-1.0.4 and place 83-95 %.
    # Two integers per FFT interpolation interval instead of one: the grid grows half as fast as the
    # map spreads, which took 10k points from 71 s to 26 s on 2 cores with the same 5-NN accuracy
    # in the map (bench/projection.py).
    tsne = TSNE(perplexity=perplexity, n_jobs=os.cpu_count() or 1, random_state=seed,
                negative_gradient_method="fft", ints_in_interval=2, verbose=False,
                callbacks=reporter, callbacks_every_iters=10)
    reporter.stage_starts = [0, tsne.early_exaggeration_iter]
    reporter.total = tsne.early_exaggeration_iter + tsne.n_iter
    embedding = tsne.fit(data)
    reporter.fitted = True
    return np.asarray(embedding, dtype=np.float32), embedding


def _umap(data: np.ndarray, seed: int, reporter: _Reporter):
    tame_tqdm()  # umap draws its epochs with a tqdm bar
    import warnings

    with warnings.catch_warnings():  # umap warns that a fixed seed turns off its parallelism, by design
        warnings.simplefilter("ignore")
        import umap

        # Not verbose (umap would print to stdout): its epoch bar alone, written into the reporter.
        model = umap.UMAP(n_components=2, n_neighbors=min(15, len(data) - 1), random_state=seed,
                          tqdm_kwds={"disable": False, "file": reporter, "bar_format": "{n}/{total}",
                                     "mininterval": 0.2})
        try:
            fitted = model.fit_transform(data).astype(np.float32)
        finally:  # a cancel raised from inside the bar's write leaves tqdm's lock held
            release_bars_lock()
        reporter.fitted = True
        return fitted, _Quiet(model)


class _Quiet:
    """umap's transform, with its warnings silenced the same way."""

    def __init__(self, model):
        self.model = model

    def transform(self, data: np.ndarray) -> np.ndarray:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.model.transform(data).astype(np.float32)


def align(frame: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`frame` rotated, reflected, scaled and shifted onto `reference` (orthogonal Procrustes on the
    same points), so maps of successive checkpoints line up and only real change shows."""
    from scipy.linalg import orthogonal_procrustes

    frame_centre, reference_centre = frame.mean(axis=0), reference.mean(axis=0)
    a, b = frame - frame_centre, reference - reference_centre
    rotation, _ = orthogonal_procrustes(a, b)
    scale = np.linalg.norm(b) / max(np.linalg.norm(a), 1e-12)
    return (a @ rotation * scale + reference_centre).astype(np.float32)


def timelapse(frames: list[np.ndarray], method: str = "pca", cap: int | None = None, seed: int = 0,
              progress: Progress | None = None) -> list[Projection]:
    """One map per checkpoint's vectors (same samples, in the same order), each aligned onto the last."""
    maps = [project(vectors, method, cap, seed, progress) for vectors in frames]
    reference = maps[-1].coords
    for projection in maps[:-1]:
        projection.coords = align(projection.coords, reference)
    return maps

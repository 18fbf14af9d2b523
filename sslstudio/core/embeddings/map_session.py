"""What the Embeddings page shows, and what each change makes stale, without Qt.

A map holds the samples, their embeddings, the 2-D coordinates (and a time-lapse's frames), the nearest-
neighbour index, k-means clusters and a probe fitted on the labels, which are the folder's merged with
those made in the app. The rules: a new map or folder clears everything computed from the old one; new app
labels clear the merged labels and the probe (refit on the next look), not the clusters; another cluster
count clears the clusters. The page asks what a colour mode still needs (`needs`) and starts that job.
Each class (and cluster) keeps its colour for the folder's session: a new class takes the next colour and
recolours no other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sslstudio.core.colour import ClassColours
from sslstudio.core.data.labels import merged_labels
from sslstudio.core.embeddings.neighbours import NeighbourIndex
from sslstudio.core.embeddings.table import write_embeddings
from sslstudio.core.errors import UserError

COLOUR_BY = ("label", "cluster", "predicted class", "confidence")


@dataclass
class MapSession:
    folder: Path | None = None
    app_labels: dict[str, str] = field(default_factory=dict)
    samples: object | None = None  # SampleSet
    embeddings: object | None = None  # Embeddings (vectors, ids, checkpoint)
    coords: np.ndarray | None = None
    frames: list[np.ndarray] = field(default_factory=list)
    index: NeighbourIndex | None = None
    clusters: np.ndarray | None = None
    clusters_k: int | None = None  # how many clusters `clusters` holds
    probe: object | None = None  # ProbeFit on the merged labels
    _labels: np.ndarray | None = None  # merged labels, cached: hover reads them on every mouse move
    class_colours: ClassColours = field(default_factory=ClassColours)  # labels and predicted classes
    cluster_colours: ClassColours = field(default_factory=ClassColours)

    @property
    def mapped(self) -> bool:
        return self.coords is not None

    def set_folder(self, folder: Path) -> None:
        if self.folder != Path(folder):
            self.folder = Path(folder)
            self.class_colours, self.cluster_colours = ClassColours(), ClassColours()
            self._clear_map()

    def export(self, path: str | Path, fmt: str | None = None) -> str:
        """Write the map as a table (core/embeddings/table.py): ids, files, the labels shown (app labels
        included), x and y, and the embeddings. Returns the format written."""
        if not self.mapped:
            raise UserError("nothing to export yet: extract and map first")
        return write_embeddings(path, self.embeddings.vectors, list(self.samples.ids), self.folder,
                                list(self.labels()), self.coords, fmt)

    def set_map(self, samples, embeddings, coords: np.ndarray) -> None:
        self._clear_map()
        self.samples, self.embeddings, self.coords = samples, embeddings, coords
        self.index = NeighbourIndex(embeddings.vectors)

    def set_app_labels(self, labels: dict[str, str]) -> bool:
        """New labels made in the app; False when nothing changed."""
        if labels == self.app_labels:
            return False
        self.app_labels = dict(labels)
        self._labels = self.probe = None
        return True

    def label(self, rows: np.ndarray, name: str) -> dict[str, str]:
        """Give `rows` the class `name`: the app's labels afterwards."""
        labels = dict(self.app_labels)
        labels.update((self.samples.ids[row], name) for row in np.asarray(rows).tolist())
        self.set_app_labels(labels)
        return dict(self.app_labels)

    def labels(self) -> np.ndarray:
        """Every sample's class: a label made in the app wins over the folder's, "" when none. Cached until the
        samples or the app's labels change (merging 100k labels takes about 18 ms)."""
        if self.samples is None:
            return np.empty(0, dtype=str)
        if self._labels is None:
            self._labels = merged_labels(self.samples, self.app_labels)
        return self._labels

    def classes(self) -> list[str]:
        return sorted(set(self.labels().tolist()) - {""})

    def set_cluster_count(self, k: int) -> bool:
        """The wanted number of clusters; True when the clusters held no longer match it."""
        if self.clusters is not None and k != self.clusters_k:
            self.clusters = None
            return True
        return False

    def set_clusters(self, clusters: np.ndarray, k: int) -> None:
        self.clusters, self.clusters_k = clusters, k

    def needs(self, mode: str) -> str | None:
        """What colouring by `mode` still lacks: "clusters", "probe", or None when it can be drawn now."""
        if not self.mapped:
            return None
        if mode == "cluster" and self.clusters is None:
            return "clusters"
        if mode in ("predicted class", "confidence") and self.probe is None:
            return "probe"
        return None

    def probe_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The labelled rows and their classes a probe learns from; a plain error when there is too little."""
        labels = self.labels()
        labelled = np.flatnonzero(labels != "")
        if len(set(labels[labelled].tolist())) < 2:
            raise UserError("Predictions need labels of at least two classes: label a selection first.")
        return labelled, labels[labelled]

    def _clear_map(self) -> None:
        self.samples = self.embeddings = self.coords = self.index = None
        self.frames = []
        self.clusters = self.clusters_k = self.probe = self._labels = None

"""Online kNN accuracy during training: "is my SSL run learning?" answered with labels, cheaply.

When the folder has labels, up to `max_samples` of them are split per class
into a memory bank and a query half, read from the store at each measurement. At a log step the backbone (in eval mode,
no gradients) embeds both, and weighted cosine kNN classifies the queries.
Measurements are skipped while their total time would exceed `budget_share`
of training time, so the monitor cannot slow training by more than that. When the first measurement costs
more than that share of the time it followed, the later ones use fewer samples (never under `min_samples`),
so a slow CPU run gets a curve instead of one point for the whole run.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from sslstudio.core.knn import knn_predict


class KnnMonitor:
    def __init__(self, samples, pipeline, seed: int = 0, max_samples: int = 1000, budget_share: float = 0.03,
                 min_samples: int = 200):
        labels_array = np.array([label or "" for label in samples.labels])
        labelled = np.flatnonzero(labels_array != "")
        rng = np.random.default_rng(seed)
        chosen = rng.permutation(labelled)[:max_samples]
        # Alternate sources, not samples: the segments of one recording must not be both bank and query.
        groups = samples.groups()
        groups = groups if groups is not None else np.arange(len(samples)).astype(str)
        bank, query = [], []
        for cls in np.unique(labels_array[chosen]):
            members = chosen[labels_array[chosen] == cls]
            sources = list(dict.fromkeys(groups[members].tolist()))
            in_bank = np.isin(groups[members], sources[::2])
            bank.extend(members[in_bank])
            query.extend(members[~in_bank])
        self.bank, self.query = np.sort(np.array(bank, dtype=np.int64)), np.sort(np.array(query, dtype=np.int64))
        self.samples, self.pipeline, self.labels = samples, pipeline, labels_array
        self.budget_share, self.min_samples = budget_share, min_samples
        self.seconds = 0.0
        self.last_seconds = 0.0
        self.measurements = 0
        self._due_at = 0.0  # training seconds at the last measurement, and the time it followed
        self._interval = 0.0

    @property
    def usable(self) -> bool:
        return len(self.query) > 0 and len(np.unique(self.labels[self.bank])) >= 2

    def due(self, training_seconds: float, seconds_left: float | None = None) -> bool:
        """Within its share of training time, and (under a time budget) sure to end before the budget does."""
        fits = seconds_left is None or self.last_seconds < seconds_left
        due = self.usable and fits and self.seconds <= self.budget_share * training_seconds
        if due:
            self._interval, self._due_at = training_seconds - self._due_at, training_seconds
        return due

    @torch.no_grad()
    def measure(self, backbone: nn.Module, device: torch.device, batch_size: int = 256) -> float:
        started = time.perf_counter()
        was_training = backbone.training
        backbone.eval()
        preprocess = self.pipeline.preprocess
        try:
            features = {}
            for name, index in (("bank", self.bank), ("query", self.query)):
                chunks = [backbone(preprocess(raw.to(device))).float().cpu()
                          for raw in self.pipeline.eval_batches(self.samples, batch_size, index)]
                features[name] = torch.cat(chunks).numpy()
        finally:
            backbone.train(was_training)
        predicted = knn_predict(features["bank"], self.labels[self.bank], features["query"])
        self.last_seconds = time.perf_counter() - started
        self.seconds += self.last_seconds
        self.measurements += 1
        accuracy = float((predicted == self.labels[self.query]).mean())
        if self.measurements == 1:
            self._fit_to_budget()
        return accuracy

    def _fit_to_budget(self) -> None:
        """Keep the share of the samples whose measurement costs `budget_share` of the time between two
        measurements (the time the first one followed), the same share of each class-balanced half."""
        affordable = self.budget_share * self._interval / max(self.last_seconds, 1e-9)
        total = len(self.bank) + len(self.query)
        keep = max(affordable, self.min_samples / max(total, 1))
        if keep >= 1:
            return
        rng = np.random.default_rng(0)
        self.bank, self.query = (np.sort(rng.permutation(half)[:max(1, round(len(half) * keep))])
                                 for half in (self.bank, self.query))

"""Online kNN accuracy during training: "is my SSL run learning?" answered with labels, cheaply.

When the folder has labels, up to `max_samples` of them are split per class
into a memory bank and a query half. At a log step the backbone (in eval mode,
no gradients) embeds both, and weighted cosine kNN classifies the queries.
Measurements are skipped while their total time would exceed `budget_share`
of training time, so the monitor cannot slow training by more than that.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from sslstudio.core.evaluation.classifiers import knn_predict


class KnnMonitor:
    def __init__(self, raw: torch.Tensor, labels: list[str], preprocess: nn.Module, seed: int = 0,
                 max_samples: int = 1000, budget_share: float = 0.03):
        labels_array = np.asarray(labels)
        rng = np.random.default_rng(seed)
        chosen = rng.permutation(len(labels_array))[:max_samples]
        bank, query = [], []
        for cls in np.unique(labels_array[chosen]):
            members = chosen[labels_array[chosen] == cls]
            bank.extend(members[::2])
            query.extend(members[1::2])
        self.bank, self.query = np.array(bank), np.array(query)
        self.raw, self.labels, self.preprocess = raw, labels_array, preprocess
        self.budget_share = budget_share
        self.seconds = 0.0

    @property
    def usable(self) -> bool:
        return len(self.query) > 0 and len(np.unique(self.labels[self.bank])) >= 2

    def due(self, training_seconds: float) -> bool:
        return self.usable and self.seconds <= self.budget_share * training_seconds

    @torch.no_grad()
    def measure(self, backbone: nn.Module, device: torch.device, batch_size: int = 256) -> float:
        started = time.perf_counter()
        was_training = backbone.training
        backbone.eval()
        try:
            features = {}
            for name, index in (("bank", self.bank), ("query", self.query)):
                chunks = [backbone(self.preprocess(self.raw[index[i:i + batch_size]].to(device))).float().cpu()
                          for i in range(0, len(index), batch_size)]
                features[name] = torch.cat(chunks).numpy()
        finally:
            backbone.train(was_training)
        predicted = knn_predict(features["bank"], self.labels[self.bank], features["query"])
        self.seconds += time.perf_counter() - started
        return float((predicted == self.labels[self.query]).mean())

"""Representation-health measures computed on one batch of embeddings."""
from __future__ import annotations

import torch


@torch.no_grad()
def collapse_std(embeddings: torch.Tensor) -> float:
    """Mean per-dimension std of L2-normalised embeddings: ~1/sqrt(D) when spread, 0 when collapsed.

    As in lightly's std_of_l2_normalized; it drops even while the loss still falls.
    """
    normalised = torch.nn.functional.normalize(embeddings.float(), dim=1)
    return float(normalised.std(dim=0).mean())


@torch.no_grad()
def effective_rank(embeddings: torch.Tensor) -> float:
    """exp(entropy of the normalised singular values) of the centred batch (Roy and Vetterli, 2007)."""
    centred = embeddings.float() - embeddings.float().mean(0, keepdim=True)
    singular = torch.linalg.svdvals(centred.cpu())
    p = singular / singular.sum().clamp(min=1e-12)
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))

"""VICReg: variance, invariance and covariance regularisation of two views' embeddings.

Bardes, Ponce and LeCun, "VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised
Learning", ICLR 2022. The two views' embeddings must agree (mean squared error), every dimension must
keep a standard deviation of at least 1 across the batch (a hinge, so nothing collapses), and
different dimensions must not co-vary (their off-diagonal covariance is pushed to 0). No negatives
and no momentum network, so it needs no large batch. The paper's weights: 25, 25, 1.

Under torchrun the statistics are taken over the global batch, as in the authors' code.

Example:
    >>> loss, parts = vicreg(torch.randn(64, 256), torch.randn(64, 256))
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from sslstudio.core.losses.gather import gather_rows


def vicreg(z1: torch.Tensor, z2: torch.Tensor, invariance: float = 25.0, variance: float = 25.0,
           covariance: float = 1.0, eps: float = 1e-4) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The weighted loss and its three unweighted terms."""
    z1, _, _ = gather_rows(z1.float())
    z2, _, _ = gather_rows(z2.float())
    agree = F.mse_loss(z1, z2)
    spread = (_std_hinge(z1, eps) + _std_hinge(z2, eps)) / 2
    decorrelate = _off_diagonal_covariance(z1) + _off_diagonal_covariance(z2)
    loss = invariance * agree + variance * spread + covariance * decorrelate
    return loss, {"invariance": agree.detach(), "variance": spread.detach(), "covariance": decorrelate.detach()}


def _std_hinge(z: torch.Tensor, eps: float) -> torch.Tensor:
    return F.relu(1.0 - torch.sqrt(z.var(dim=0) + eps)).mean()


def _off_diagonal_covariance(z: torch.Tensor) -> torch.Tensor:
    n, d = z.shape
    centred = z - z.mean(dim=0)
    cov = centred.T @ centred / max(1, n - 1)
    return (cov.pow(2).sum() - cov.diagonal().pow(2).sum()) / d

"""NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR.

Chen, Kornblith, Norouzi and Hinton, "A Simple Framework for Contrastive
Learning of Visual Representations", ICML 2020. Each of the 2N views must pick
its partner out of the 2N - 1 others by cosine similarity / temperature.

Example:
    >>> z1, z2 = torch.randn(8, 128), torch.randn(8, 128)
    >>> loss, accuracy = nt_xent(z1, z2, temperature=0.2)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss and the share of views whose nearest other view is their partner."""
    n = len(z1)
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    similarity = z @ z.T / temperature
    similarity = similarity.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    partners = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    accuracy = (similarity.argmax(1) == partners).float().mean()
    return F.cross_entropy(similarity, partners), accuracy

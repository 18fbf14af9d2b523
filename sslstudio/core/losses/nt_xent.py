"""NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR.

Chen, Kornblith, Norouzi and Hinton, "A Simple Framework for Contrastive
Learning of Visual Representations", ICML 2020. Each of the 2N views must pick
its partner out of the 2N - 1 others by cosine similarity / temperature.

Under torchrun the views of every rank are gathered, so each view is scored
against the whole global batch, as in the paper; without that, adding GPUs
would shrink each view's pool of negatives instead of growing it.

Example:
    >>> z1, z2 = torch.randn(8, 128), torch.randn(8, 128)
    >>> loss, accuracy = nt_xent(z1, z2, temperature=0.2)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from sslstudio.core.losses.gather import gather_rows


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss and the share of views whose nearest other view is their partner.

    With a process group, the loss is this rank's share of the global-batch
    loss; DDP's gradient averaging then gives the gradient of the global loss.
    """
    n = len(z1)
    local = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    first, rank, world = gather_rows(local[:n])
    second, _, _ = gather_rows(local[n:])
    keys = torch.cat([first, second])  # (2 * world * n): all first views, then all second views
    total = world * n
    own = torch.cat([torch.arange(n), torch.arange(n)]) + rank * n
    own[n:] += total
    similarity = local @ keys.T / temperature
    rows = torch.arange(2 * n, device=local.device)
    similarity[rows, own.to(local.device)] = float("-inf")
    partners = torch.cat([own[n:], own[:n]]).to(local.device)
    accuracy = (similarity.argmax(1) == partners).float().mean()
    return F.cross_entropy(similarity, partners), accuracy

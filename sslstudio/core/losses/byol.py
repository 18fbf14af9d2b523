"""BYOL's regression loss: 2 - 2 cos(prediction, target), with the target's gradient stopped.

Grill et al., "Bootstrap Your Own Latent: A New Approach to Self-Supervised
Learning", NeurIPS 2020. Also SimSiam's loss up to a constant (Chen and He, CVPR 2021).

Example:
    >>> loss = negative_cosine(torch.randn(8, 128), torch.randn(8, 128))
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def negative_cosine(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    cosine = F.cosine_similarity(prediction.float(), target.detach().float(), dim=1)
    return (2 - 2 * cosine).mean()

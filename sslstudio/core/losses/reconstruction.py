"""Mean squared error over the hidden positions only, as masked autoencoders use it.

He et al., "Masked Autoencoders Are Scalable Vision Learners", CVPR 2022:
scoring visible positions too would reward copying the input.

Example:
    >>> loss = masked_mse(prediction, target, mask)  # mask: True where hidden, broadcastable
"""
from __future__ import annotations

import torch


def masked_mse(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weight = mask.to(torch.float32).expand_as(target)
    error = (prediction.float() - target.float()) ** 2
    return (error * weight).sum() / weight.sum().clamp(min=1.0)

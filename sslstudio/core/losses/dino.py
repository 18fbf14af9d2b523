"""DINO's self-distillation loss: the student's softmax over prototypes must match the teacher's centred,
sharpened softmax, for every pair of different views.

Caron et al., "Emerging Properties in Self-Supervised Vision Transformers", ICCV 2021. The teacher sees
only the global crops; the student sees all crops. Centring (subtracting a running mean of the teacher's
outputs) keeps one prototype from winning everything; sharpening (a low teacher temperature) keeps the
outputs from going uniform. Both together avoid collapse, with no negatives.

Example:
    >>> views = [torch.randn(8, 256) for _ in range(6)]
    >>> loss, mean = dino_loss(views, views[:2], torch.zeros(256), 0.1, 0.04)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def dino_loss(student_views: list[torch.Tensor], teacher_views: list[torch.Tensor], centre: torch.Tensor,
              student_temp: float, teacher_temp: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, the teacher's mean output over this batch, for the centre's update).

    The student's views start with the same global views the teacher saw, in the same order; each teacher
    view teaches every student view but its own."""
    targets = [F.softmax((t.float() - centre) / teacher_temp, dim=-1) for t in teacher_views]
    log_probs = [F.log_softmax(s.float() / student_temp, dim=-1) for s in student_views]
    terms = [(-target * log_prob).sum(-1).mean()
             for t, target in enumerate(targets) for s, log_prob in enumerate(log_probs) if s != t]
    return torch.stack(terms).mean(), torch.cat(teacher_views).float().mean(0).detach()


def entropy(probabilities: torch.Tensor) -> torch.Tensor:
    """Mean entropy of rows of probabilities, in nats: 0 when each is one-hot, log K when uniform."""
    return -(probabilities * probabilities.clamp(min=1e-12).log()).sum(-1).mean()

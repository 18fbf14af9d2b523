"""Plain-language health alerts from trainer events: what a user should look at, and why.

Thresholds follow common practice: a collapse std far below the 1/sqrt(D) of
healthy spread-out embeddings (lightly's `std_of_l2_normalized`), an effective
rank using a tiny share of the dimensions, and a loader that keeps the model
waiting for a large share of each step. A pretext task that the model solves almost
perfectly within its first hundred steps (rotation on centred, upright objects) teaches
little after that: its accuracy says so early.
"""
from __future__ import annotations

from sslstudio.core.training.events import HealthMetrics, StepMetrics, TrainingFailed

COLLAPSE_SHARE = 0.2  # std below this share of the healthy 1/sqrt(D)
RANK_SHARE = 0.02  # effective rank below this share of the dimensions (and under 3)
WAIT_SHARE = 0.3  # share of step time spent waiting for data
SATURATED_ACCURACY = 0.95  # pretext accuracy this high ...
SATURATED_BY_STEP = 100  # ... this early means the task is too easy for the data


def alerts_for(event) -> list[str]:
    if isinstance(event, HealthMetrics):
        found = []
        if event.collapse_std < COLLAPSE_SHARE * event.healthy_std:
            found.append(f"embeddings are collapsing: std {event.collapse_std:.4f} "
                         f"(healthy is about {event.healthy_std:.3f}) at step {event.step}")
        if event.effective_rank < max(3.0, RANK_SHARE * event.embed_dim):
            found.append(f"embeddings use very few directions: effective rank {event.effective_rank:.1f} "
                         f"of {event.embed_dim} at step {event.step}")
        return found
    if isinstance(event, StepMetrics):
        found = []
        if event.data_wait_share > WAIT_SHARE:
            found.append(f"the data pipeline is the bottleneck: {event.data_wait_share:.0%} of the time is "
                         f"spent waiting for batches (step {event.step})")
        accuracy = event.metrics.get("accuracy")
        if accuracy is not None and accuracy >= SATURATED_ACCURACY and event.step <= SATURATED_BY_STEP:
            found.append(f"the task is too easy for this data: pretext accuracy {accuracy:.0%} by step "
                         f"{event.step}, so it will teach little more; try a task that asks more of the model "
                         f"(vicreg or simclr for images, audio_contrastive for audio, simcse for text) or "
                         f"harder settings for this one")
        return found
    if isinstance(event, TrainingFailed):
        return [event.message]
    return []

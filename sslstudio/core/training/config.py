"""A run's training settings, declared once (core/settings.py): the CLI's options, the Train page's form,
config.json and `sslstudio settings --json` all read this class."""
from __future__ import annotations

from dataclasses import dataclass

from sslstudio.core.settings import Settings, setting

DEFAULT_EPOCHS = 20


@dataclass(frozen=True)
class TrainConfig(Settings):
    max_minutes: float | None = setting(
        None, "Stop after this many minutes of training. A time budget alone ends the run and paces the "
              "learning-rate schedule; the wait for the first batch is not counted.",
        min=0.001, max=100_000.0, none_means="no time limit", label="time budget (min)")
    epochs: int | None = setting(
        None, f"Passes over the folder. Left empty: as many as the time budget allows, or {DEFAULT_EPOCHS} "
              f"without one.", min=1, max=1_000_000, none_means="until the time budget")
    max_steps: int | None = setting(None, "Stop after this many optimizer steps.", min=1, max=100_000_000,
                                    none_means="no step limit")
    batch_size: int = setting(128, "Samples per step, on each device.", min=1, max=65_536)
    lr: float = setting(2e-3, "Peak learning rate (AdamW, warm-up then cosine decay).", min=1e-8,
                        label="learning rate")
    weight_decay: float = setting(0.05, "AdamW's weight decay.", min=0.0, max=10.0)
    warmup_fraction: float = setting(0.05, "Share of the steps over which the learning rate warms up.",
                                     min=0.0, max=1.0)
    seed: int = setting(0, "Seed for the weights, the augmentations and the order of samples.", min=0,
                        max=2**31 - 1)
    log_every: int = setting(10, "Steps between logged metrics (loss, speed, health).", min=1, max=1_000_000)
    checkpoint_minutes: float = setting(
        2.0, "Minutes between checkpoints; the first comes after 15 s if that is sooner, and 0 saves after "
             "every step.", min=0.0, max=100_000.0, label="checkpoint every (min)")

"""The settings of a probe and of a label-efficiency curve, declared once (core/settings.py) and free of
torch, so the CLI's options and the Fine-tune page's form come from here without loading a model."""
from __future__ import annotations

from dataclasses import dataclass

from sslstudio.core.settings import Settings, setting

PROBE_METHODS = ("linear", "knn", "finetune")
MAX_SAMPLES = 10_000
MAX_SAMPLES_HELP = ("Evaluate on at most this many labelled samples, a stratified draw, so a large folder's "
                    "baselines and probes take minutes, not hours; the result says when it used a draw "
                    "(0: every labelled sample; the baselines' features are held in memory, about 14 KB per "
                    "image at 64 px).")
METHOD_HELP = ("linear: logistic regression on frozen features; knn: no training, cosine votes; finetune: the "
               "whole backbone at a tenth of the head's learning rate, 200 steps per point, whose random-init "
               "baseline is a supervised model from scratch.")


@dataclass(frozen=True)
class ProbeSettings(Settings):
    per_class: int = setting(10, "Labelled samples per class the probe learns from (0: all available).",
                             min=0, max=1_000_000, label="labels per class")
    method: str = setting("linear", METHOD_HELP, choices=PROBE_METHODS)
    baselines: bool = setting(False, "Also score a random-init copy of the backbone and the raw inputs.")
    seed: int = setting(0, "Seed of the labelled draw and of the probe.", min=0, max=2**31 - 1)
    max_samples: int = setting(MAX_SAMPLES, MAX_SAMPLES_HELP, min=0, max=100_000, label="max samples")


@dataclass(frozen=True)
class CurveSettings(Settings):
    shots: tuple[int, ...] = setting((1, 2, 5, 10, 20, 50, 0), "Labels per class at each point of the curve "
                                     "(0: all available).", min=0, max=1_000_000, label="labels per class")
    seeds: tuple[int, ...] = setting((0, 1, 2), "One labelled draw per seed at each point; the curve shows "
                                     "their mean and spread.", min=0, max=2**31 - 1)
    method: str = setting("linear", METHOD_HELP, choices=PROBE_METHODS)
    max_samples: int = setting(MAX_SAMPLES, MAX_SAMPLES_HELP, min=0, max=100_000, label="max samples")

"""Which samples a preview shows, for the CLI's sheet and the Task page alike: the same seed shows the same
samples in both. Only a seeded pool of the folder's files is decoded, so a preview of a folder of a
million photos reads a few hundred, never the whole folder."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sslstudio.core.data.dataset import SampleSet, load_files
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.settings import Settings, setting

POOL = {"image": 256, "audio": 128, "text": 2000}  # files decoded for previews; text needs enough to fit a vocabulary


@dataclass(frozen=True)
class PreviewSettings(Settings):
    n: int = setting(6, "Number of samples shown.", min=1, max=64)
    seed: int = setting(0, "Which samples, and the random draws of the task's transform.", min=0, max=2**31 - 1)


def preview_pool(relpaths: list[str], modality: str) -> list[str]:
    """The files a preview draws from: a fixed seeded sample of the folder, in folder order."""
    return sorted(random.Random(0).sample(list(relpaths), min(len(relpaths), POOL[modality])))


def preview_indices(count: int, n: int, seed: int) -> np.ndarray:
    """Which of the pool's `count` samples a preview shows: `n` drawn with `seed`, in pool order."""
    return np.sort(np.random.default_rng(seed).permutation(count)[:n])


def load_pool(root: str | os.PathLike, relpaths: list[str], modality: str, spec: InputSpec,
              wait: bool = True) -> SampleSet:
    """The pool's files decoded at these input settings. `wait=False`: never queue behind another job that
    decodes the folder into its store (the Task page's preview while the Data step decodes)."""
    return load_files(Path(root), preview_pool(relpaths, modality), modality, spec=spec, wait=wait)


def preview_inputs(root: str | os.PathLike, relpaths: list[str], modality: str, spec: InputSpec,
                   wait: bool = True) -> tuple[SampleSet, object]:
    """The pool decoded at these input settings, with an input pipeline fitted on it."""
    from sslstudio.core.models.inputs import Pipeline  # loads torch

    samples = load_pool(root, relpaths, modality, spec, wait)
    return samples, Pipeline.fit(samples)


def render_preview(task, samples: SampleSet, n: int, seed: int, model=None) -> tuple[list, list[str]]:
    """`n` samples of the pool as the task's training transform makes them with `seed` (and the model's own
    outputs beside them, given a trained `model`): the previews and the ids of the samples shown."""
    import torch  # loads torch

    picked = preview_indices(len(samples), n, seed)
    with torch.no_grad():
        previews = task.preview_samples(samples, picked, seed, model)
    return previews, [samples.ids[i] for i in picked]

"""Recommended recipes: per modality and budget, the task, backbone and training settings that the
leaderboard measured best, with what it measured (and at which input settings; a folder's own are
still proposed from its files).

They are data, in resources/recipes.json, chosen by `bench/leaderboard.py --write-recipes` from its
own table; nothing here decides which method wins. `sslstudio train --recipe NAME` and the
workbench's "Use the recipe" apply one; `train` without a task, the demo and a new project's first
run use the recommended one for the folder's modality and the device.

Example:
    >>> recommended("image", "cpu").task
    'vicreg'
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache

from sslstudio.core.errors import UserError
from sslstudio.resources import resources_dir

BUDGETS = {"cpu": "a few CPU minutes", "gpu": "a GPU, 10 minutes"}
RAW_INPUTS = {"image": "raw pixels", "audio": "the raw log-mel spectrogram", "text": "TF-IDF"}  # the raw baseline


@dataclass(frozen=True)
class Recipe:
    name: str
    modality: str
    budget: str  # a key of BUDGETS
    task: str
    task_args: dict = field(default_factory=dict)
    backbone: str | None = None  # None: the task's or the device's default
    train: dict = field(default_factory=dict)  # TrainConfig fields
    # What the leaderboard measured: data, inputs (the InputSpec fields it ran at; a folder's own are proposed
    # from its files), labels_per_class, seeds, device, minutes, steps, command, accuracy (mean, std),
    # baselines {raw, random_init} (means), margin_points against the stronger one. None: not measured yet.
    measured: dict | None = None

    def summary(self) -> str:
        """One line: what it trains, for how long."""
        minutes = self.train.get("max_minutes")
        budget = f"{minutes:g} min" if minutes else BUDGETS[self.budget]
        backbone = f", {self.backbone}" if self.backbone else ""
        return f"{self.task}{backbone}, {budget} ({BUDGETS[self.budget]})"

    def evidence(self) -> str:
        """What it bought where it was measured, in one plain sentence."""
        m = self.measured
        if not m:
            return "Not measured yet: the leaderboard has not run this budget."
        stronger = max(m["baselines"], key=m["baselines"].get)
        words = RAW_INPUTS[self.modality] if stronger == "raw" else "the same network randomly initialised"
        margin = m["margin_points"]
        verdict = f"{margin:+.1f} points over {words}" if margin >= 0 else f"{-margin:.1f} points below {words}"
        return (f"{verdict} ({m['accuracy'][0]:.3f} ± {m['accuracy'][1]:.3f} against "
                f"{m['baselines'][stronger]:.3f}), linear probe with {m['labels_per_class']} labels per class on "
                f"{m['data']}, {m['seeds']} seed{'s' if m['seeds'] > 1 else ''}, {m['minutes']:g} min on "
                f"{m['device']}.")


def _recipe_path():
    return resources_dir() / "recipes.json"


@lru_cache(maxsize=1)
def load_recipes() -> dict[str, Recipe]:
    entries = json.loads(_recipe_path().read_text(encoding="utf-8"))["recipes"]
    return {name: Recipe(name=name, **entry) for name, entry in entries.items()}


def get_recipe(name: str) -> Recipe:
    recipes = load_recipes()
    if name not in recipes:
        raise UserError(f"unknown recipe {name!r}; recipes: {', '.join(recipes)}")
    return recipes[name]


def recommended(modality: str, device_type: str) -> Recipe | None:
    """The recipe for this modality on this device: the GPU one on a CUDA GPU when there is one, else the CPU one."""
    budgets = ("gpu", "cpu") if device_type == "cuda" else ("cpu",)
    for budget in budgets:
        for recipe in load_recipes().values():
            if recipe.modality == modality and recipe.budget == budget:
                return recipe
    return None


def recommended_here(modality: str) -> Recipe | None:
    """The recommended recipe for this modality on the device training picks by default on this machine."""
    from sslstudio.core.training.device import resolve_device  # loads torch

    return recommended(modality, resolve_device("auto").type)


def apply_recipe(request, modality: str, device_type: str):
    """The train request with its recipe filled in: the named one, or when no task is given the recommended
    one. What the user gave explicitly wins over the recipe's values; the input settings stay the folder's
    own. Returns (request, recipe or None)."""
    if request.recipe:
        recipe = get_recipe(request.recipe)
        if recipe.modality != modality:
            raise UserError(f"recipe {recipe.name} is for {recipe.modality}, but the folder holds {modality}")
        if request.task and request.task != recipe.task:
            raise UserError(f"recipe {recipe.name} trains {recipe.task}; drop --task or --recipe")
    elif not request.task:
        recipe = recommended(modality, device_type)
        if recipe is None:
            raise UserError("choose a task with --task (see `sslstudio tasks`)")
    else:
        return request, None
    return replace(request, task=recipe.task, task_args={**recipe.task_args, **request.task_args},
                   backbone=request.backbone or recipe.backbone,
                   train_settings={**recipe.train, **request.train_settings}, recipe=recipe.name), recipe

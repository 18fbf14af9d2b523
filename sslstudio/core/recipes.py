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
    # What the leaderboard measured: data, kind (what the data is like: image side and colour, audio seconds),
    # inputs (the InputSpec fields it ran at; a folder's own are proposed
    # from its files), labels_per_class, seeds, device, minutes, steps, command, accuracy (mean, std),
    # baselines {raw, random_init} (means), margin_points against the stronger one. None: not measured yet.
    measured: dict | None = None

    def summary(self) -> str:
        """One line: what it trains, for how long."""
        minutes = self.train.get("max_minutes")
        budget = f"{minutes:g} min" if minutes else BUDGETS[self.budget]
        backbone = f", {self.backbone}" if self.backbone else ""
        return f"{self.task}{backbone}, {budget} ({BUDGETS[self.budget]})"

    def evidence(self, folder=None) -> str:
        """What it bought where it was measured, in plain sentences. With `folder` (a core.data.survey.Survey),
        the figures show only when they were measured on data like the folder's; otherwise it says so and what
        they were measured on. A margin within one standard deviation reads as no measurable gain."""
        m = self.measured
        if not m:
            return "Not measured yet: the leaderboard has not run this budget."
        kind = _kind_words(m.get("kind"))
        where = f"{m['data']}: {kind}" if kind else m["data"]
        if folder is not None and not _alike(m.get("kind"), folder):
            folder_kind = _kind_words(_folder_kind(folder))
            return (f"No measurement on data like this folder's{f' ({folder_kind})' if folder_kind else ''}: the "
                    f"figures for this recipe come from {where}, so they say nothing about this folder.")
        stronger = max(m["baselines"], key=m["baselines"].get)
        words = RAW_INPUTS[self.modality] if stronger == "raw" else "the same network randomly initialised"
        margin, (mean, std) = m["margin_points"], m["accuracy"]
        if m["seeds"] > 1 and abs(margin) <= 100 * std:
            verdict = f"No measurable gain over {words}: {margin:+.1f} points, within one standard deviation"
        else:
            verdict = f"{margin:+.1f} points over {words}" if margin >= 0 else f"{-margin:.1f} points below {words}"
        spread = f"{mean:.3f} ± {std:.3f}" if m["seeds"] > 1 else f"{mean:.3f}, one seed: its spread is unknown,"
        return (f"{verdict} ({spread} against {m['baselines'][stronger]:.3f}), linear probe with "
                f"{m['labels_per_class']} labels per class on {where}; {m['seeds']} seed{'s' if m['seeds'] > 1 else ''}"
                f", {m['minutes']:g} min on {m['device']}.")


ALIKE_SIDE_RATIO = 2.0  # images within a factor of 2 in size are alike; 28 px and 600 px are not
ALIKE_SECONDS_RATIO = 3.0


def _folder_kind(folder) -> dict:
    kind = {"side": folder.median_side, "colour": folder.colour} if folder.modality == "image" else \
        {"seconds": folder.median_seconds} if folder.modality == "audio" else {}
    return {key: value for key, value in kind.items() if value is not None}


def _alike(measured: dict | None, folder) -> bool:
    """Whether a folder is like the data a recipe was measured on: the same colour, and a size within a factor."""
    if measured is None:
        return False  # not known what it was measured on
    kind = _folder_kind(folder)
    if "colour" in measured and "colour" in kind and measured["colour"] != kind["colour"]:
        return False
    for key, ratio in (("side", ALIKE_SIDE_RATIO), ("seconds", ALIKE_SECONDS_RATIO)):
        if key in measured and key in kind and max(measured[key], kind[key]) > ratio * min(measured[key], kind[key]):
            return False
    return True


def _kind_words(kind: dict | None) -> str:
    """'28 px, greyscale', '1 s clips', or '' when nothing is known."""
    words = []
    if kind and "side" in kind:
        words.append(f"{kind['side']} px")
    if kind and "colour" in kind:
        words.append("colour" if kind["colour"] else "greyscale")
    if kind and "seconds" in kind:
        words.append(f"{kind['seconds']:g} s clips")
    return ", ".join(words)


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

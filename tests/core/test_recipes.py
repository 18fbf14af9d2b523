"""The recommended recipes: every one in resources/recipes.json is a run that can start, each modality has
one for a CPU, and the user's own choices win over a recipe's."""
import json
from dataclasses import replace

import pytest

from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.data.survey import Survey
from sslstudio.core.errors import UserError
from sslstudio.core.recipes import BUDGETS, apply_recipe, load_recipes, recommended
from sslstudio.core.tasks.registry import get_task
from sslstudio.core.training.session import TrainRequest, train
from sslstudio.core.training.trainer import TrainConfig


@pytest.mark.parametrize("name", sorted(load_recipes()))
def test_every_recipe_names_a_task_settings_and_inputs_that_exist(name):
    recipe = load_recipes()[name]
    task = get_task(recipe.task)
    assert task.modality == recipe.modality and recipe.budget in BUDGETS
    assert name == f"{recipe.modality}-{recipe.budget}"
    task.Args.from_mapping(recipe.task_args)
    assert recipe.backbone is None or task.backbones is None or recipe.backbone in task.backbones
    TrainConfig(**recipe.train)
    assert recipe.train.get("max_minutes")  # a recipe is a budget
    if recipe.measured:
        m = recipe.measured
        InputSpec(**m["inputs"])
        assert m["margin_points"] == pytest.approx(100 * (m["accuracy"][0] - max(m["baselines"].values())), abs=0.051)
        assert m["command"].startswith("python bench/leaderboard.py")
        assert recipe.evidence().endswith(f"{m['minutes']:g} min on {m['device']}.")


@pytest.mark.parametrize("modality", ["image", "audio", "text"])
def test_each_modality_has_a_cpu_recipe_and_a_cpu_never_gets_the_gpu_one(modality):
    assert recommended(modality, "cpu").budget == "cpu"
    assert recommended(modality, "cuda").modality == modality


def test_what_the_user_gives_wins_over_the_recipe(tmp_path):
    recipe = recommended("image", "cpu")
    given = TrainRequest(tmp_path, tmp_path / "run", inputs={"image_size": 48}, train_settings={"max_steps": 3})
    request, used = apply_recipe(given, "image", "cpu")
    assert used is recipe and request.task == recipe.task and request.recipe == recipe.name
    assert request.inputs == {"image_size": 48}  # input settings stay the folder's (and the user's)
    assert request.train_settings == {**recipe.train, "max_steps": 3}
    assert apply_recipe(TrainRequest(tmp_path, tmp_path / "r", task="rotation"), "image", "cpu") == (
        TrainRequest(tmp_path, tmp_path / "r", task="rotation"), None)  # a task and no recipe: nothing added
    with pytest.raises(UserError, match=f"recipe {recipe.name} trains {recipe.task}; drop --task or --recipe"):
        apply_recipe(TrainRequest(tmp_path, tmp_path / "r", task="jigsaw", recipe=recipe.name), "image", "cpu")
    with pytest.raises(UserError, match="is for image, but the folder holds text"):
        apply_recipe(TrainRequest(tmp_path, tmp_path / "r", recipe=recipe.name), "text", "cpu")
    with pytest.raises(UserError, match="unknown recipe 'nope'; recipes: "):
        apply_recipe(TrainRequest(tmp_path, tmp_path / "r", recipe="nope"), "image", "cpu")


def test_a_run_without_a_task_trains_the_folders_recipe_and_records_it(tiny_text, tmp_path):
    finished = train(TrainRequest(tiny_text, tmp_path / "run", train_settings={"max_steps": 2, "batch_size": 8}))
    recipe = recommended("text", "cpu")
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert finished.step == 2 and config["recipe"] == recipe.name and config["task"] == recipe.task
    assert config["train"]["batch_size"] == 8 and config["train"]["max_minutes"] == recipe.train["max_minutes"]


def test_the_demo_says_what_a_row_bought_or_why_it_likely_lost():
    from sslstudio.core.demo import verdict

    assert verdict("image", 0.80, {"raw": 0.70, "random_init": 0.60}, 500) == (
        "Self-supervision helped: +10.0 points over raw pixels and +20.0 over the same network untrained.")
    lost = verdict("image", 0.65, {"raw": 0.70, "random_init": 0.60}, 40)
    assert lost.startswith("Self-supervision lost here, 5.0 points below raw pixels after 40 steps; likely because "
                           "raw pixels are a strong baseline on 28-pixel greyscale")
    assert "below the same network untrained" in verdict("audio", 0.65, {"raw": 0.60, "random_init": 0.70}, 40)


def test_a_recipes_figures_show_only_beside_data_like_those_they_were_measured_on():
    recipe = recommended("image", "cpu")  # measured on Fashion-MNIST: 28 px, greyscale
    photos = Survey("image", 20_000, median_side=600, colour=True)
    said = recipe.evidence(photos)
    assert said.startswith("No measurement on data like this folder's (600 px, colour)")
    assert "Fashion-MNIST" in said and "28 px, greyscale" in said and "points" not in said
    clips = Survey("audio", 50, median_seconds=30.0)
    assert recommended("audio", "cpu").evidence(clips).startswith("No measurement on data like this folder's (30 s")
    alike = Survey("image", 500, median_side=32, colour=False)
    assert not recipe.evidence(alike).startswith("No measurement")


def test_a_gain_within_one_standard_deviation_reads_as_no_measurable_gain():
    recipe = recommended("image", "cpu")
    within = replace(recipe, measured={**recipe.measured, "accuracy": [0.714, 0.012], "margin_points": 1.0,
                                       "seeds": 3})
    assert within.evidence().startswith("No measurable gain over raw pixels: +1.0 points, within one standard")
    beyond = replace(recipe, measured={**recipe.measured, "accuracy": [0.754, 0.012], "margin_points": 5.0,
                                       "seeds": 3})
    assert beyond.evidence().startswith("+5.0 points over raw pixels (0.754 ± 0.012")
    one_seed = replace(recipe, measured={**recipe.measured, "accuracy": [0.754, 0.0], "margin_points": 5.0,
                                         "seeds": 1})
    assert "one seed: its spread is unknown" in one_seed.evidence() and "± 0.000" not in one_seed.evidence()

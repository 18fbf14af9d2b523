"""Reference runs: each modality's CPU recipe trained on the bundled demo data for longer than the demo's
live run, so the demo can show what a longer run buys beside what half a minute buys.

They live in resources/reference-runs/<modality>, made by `make demo-runs` (`python -m
sslstudio.core.reference`): a run folder whose checkpoint holds the backbone's weights alone, its
parameters in half precision (a few MB each; buffers such as word counts stay as they were), and
whose config.json says how it was made: recipe, budget, seed, steps and the command.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from sslstudio.resources import demo_folder, resources_dir

REFERENCE_MINUTES = 5.0
COMMAND = "make demo-runs"


def reference_run(modality: str) -> Path | None:
    """The shipped reference run of this modality, or None."""
    path = resources_dir() / "reference-runs" / modality
    return path if (path / "config.json").is_file() else None


def slim_copy(source: Path, out: Path, reference: dict, folder_label: str | None = None) -> None:
    """Copy a trained run to `out` with the backbone's weights alone, parameters in half precision; the
    training folder is recorded as `folder_label` (a path inside the project, not of the machine that made it)."""
    from sslstudio.core.training.checkpoint import save_checkpoint
    from sslstudio.core.training.run_dir import RunDir
    from sslstudio.core.training.session import load_task_model

    _, model, config = load_task_model(source)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("pipeline.json", "tokenizer.json"):
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)
    parameters = {name for name, _ in model.backbone.named_parameters()}
    weights = {name: value.half() if name in parameters and value.is_floating_point() else value
               for name, value in model.backbone.state_dict().items()}
    state = RunDir(source).load_state()[0]
    data = {**config["data"], "folder": folder_label} if folder_label else config["data"]
    RunDir(out).write_config({**config, "data": data, "reference": reference})
    (out / "checkpoints").mkdir(exist_ok=True)
    save_checkpoint(out / "checkpoints" / "last.pt", {"model": weights, "backbone_only": True,
                                                      "progress": state["progress"]})


def make_reference_runs(modalities=("image", "audio", "text"), minutes: float = REFERENCE_MINUTES, seed: int = 0,
                        root: Path | None = None, log=print) -> None:
    from sslstudio.core.recipes import recommended
    from sslstudio.core.training.events import TrainingFailed
    from sslstudio.core.training.session import TrainRequest, train

    root = root or resources_dir() / "reference-runs"
    for modality in modalities:
        recipe = recommended(modality, "cpu")
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "run"
            log(f"[{modality}] recipe {recipe.name} ({recipe.task}) for {minutes:g} min on the demo data")
            finished = train(TrainRequest(demo_folder(modality), run, recipe=recipe.name, device="cpu",
                                          train_settings={"max_minutes": minutes, "seed": seed}))
            if isinstance(finished, TrainingFailed):
                raise RuntimeError(f"{modality}: {finished.message}")
            target = root / modality
            shutil.rmtree(target, ignore_errors=True)
            slim_copy(run, target, {"recipe": recipe.name, "minutes": minutes, "seed": seed, "device": "CPU",
                                    "steps": finished.step, "seconds": finished.seconds, "command": COMMAND},
                      folder_label=f"resources/demo/{modality}")
            log(f"[{modality}] {finished.step} steps -> {target}")


def describe(run_path: Path) -> str:
    """'reference run, 5 CPU min' from the run's config."""
    from sslstudio.core.training.run_dir import RunDir

    made = RunDir(run_path).read_config()["reference"]
    return f"reference run, {made['minutes']:g} {made['device']} min"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the reference runs shipped in resources/reference-runs")
    parser.add_argument("--minutes", type=float, default=REFERENCE_MINUTES)
    parser.add_argument("--modality", action="append", choices=("image", "audio", "text"))
    args = parser.parse_args(argv)
    make_reference_runs(args.modality or ("image", "audio", "text"), args.minutes,
                        log=lambda line: print(line, file=sys.stderr))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The pretext leaderboard: every task of a modality at the same CPU budget, probed with 10 labels per class.

    python bench/leaderboard.py [--minutes 3] [--seeds 0 1 2] [--modality image audio text] [--out docs/benchmarks.md]
                                [--write-recipes]

Data (built by the shared recipes): Fashion-MNIST, 2,000 training images; spoken
digits (espeak-ng, 600 clips, test set = held-out voices); fortunes by category
(100 per class, 39 classes, test set = the recipe's split). Each row: linear
probe and kNN at 10 labels per class, the random-init and raw-input baselines,
mean ± std over seeds (pretraining and label draw both change with the seed), with the steps and the
wall time of training. With --write-recipes the best task of each modality (linear probe, mean over
seeds) becomes its recommended recipe for this budget in resources/recipes.json, with its figures, unless
the recipe there was measured at the same budget and device and did better (a run of a few tasks).
"""
import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, fashion_subset, recipe, report

from sslstudio.core.data.labels import load_labelled
from sslstudio.core.evaluation.probe import probe
from sslstudio.core.settings import parse_assignments
from sslstudio.core.tasks.registry import tasks_for
from sslstudio.core.training.device import describe_device, resolve_device
from sslstudio.core.training.events import TrainingFailed
from sslstudio.core.training.session import TrainRequest, load_run, train


def data_for(modality: str) -> tuple[Path, Path]:
    """(folder to pretrain on, labelled folder or CSV to probe with)."""
    if modality == "image":
        folder = fashion_subset(200)
        return folder, folder
    name, args = {"audio": ("spoken_digits_espeak", ["--speakers", "60"]),
                  "text": ("fortunes_categories", ["--max-per-class", "100"])}[modality]
    out = recipe(name, *args)
    labels = out / "labels.csv"
    with open(out / "manifest.csv", newline="") as f, open(labels, "w", newline="") as g:
        writer = csv.writer(g)
        writer.writerow(["path", "label", "split"])
        for row in csv.DictReader(f):
            writer.writerow([row["labelled_path"], row["label"], row["split"]])
    return out / "labelled", labels


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"  # one seed: no spread to show
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def run_task(task: str, folder: Path, labelled: Path, minutes: float, seed: int, device: str = "cpu",
             batch_size: int = 64, task_args: dict | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"max_minutes": minutes, "batch_size": batch_size, "seed": seed}
        finished = train(TrainRequest(folder, tmp, task, task_args or {}, train_settings=settings, device=device))
        if isinstance(finished, TrainingFailed):
            raise RuntimeError(f"{task} seed {seed}: {finished.message}")
        run = load_run(tmp)
        samples = load_labelled(labelled, run.modality, run.pipeline.spec)
        linear = probe(run, samples, 10, "linear", seed, baselines=True, device=device)
        knn = probe(run, samples, 10, "knn", seed, baselines=True, device=device)
        used = {"backbone": run.config["backbone"], "inputs": _inputs_of(run)}
    return {"used": used, "steps": finished.step, "seconds": finished.seconds + finished.setup_seconds,
            "linear": linear["accuracy"], "knn": knn["accuracy"],
            "random_linear": linear["baselines"]["random_init"], "raw_linear": linear["baselines"]["raw"],
            "random_knn": knn["baselines"]["random_init"], "raw_knn": knn["baselines"]["raw"]}


def _inputs_of(run) -> dict:
    spec = run.pipeline.spec
    return {name: getattr(spec, name) for name in spec.MODALITY_FIELDS[run.modality]}


DATA_WORDS = {"image": "Fashion-MNIST, 2,000 images (200 per class)",
              "audio": "spoken digits (espeak-ng), 600 clips, held-out voices",
              "text": "fortunes by category, 39 classes, 100 texts each"}
# What kind of data that is, so the workbench shows a recipe's figures only beside a folder like it (core/recipes.py).
DATA_KINDS = {"image": {"side": 28, "colour": False}, "audio": {"seconds": 1.0}, "text": {}}


def write_recipe(modality: str, task: str, rows: list[dict], args, where: str) -> None:
    """The best task of a modality becomes the recommended recipe for this budget (resources/recipes.json)."""
    path = REPO / "resources" / "recipes.json"
    book = json.loads(path.read_text())
    budget = "gpu" if args.device.startswith("cuda") else "cpu"
    col = {k: [r[k] for r in rows] for k in ("linear", "random_linear", "raw_linear")}
    baselines = {"raw": round(statistics.mean(col["raw_linear"]), 4),
                 "random_init": round(statistics.mean(col["random_linear"]), 4)}
    accuracy = [round(statistics.mean(col["linear"]), 4),
                round(statistics.stdev(col["linear"]), 4) if len(rows) > 1 else 0.0]
    margin = round(100 * (accuracy[0] - max(baselines.values())), 1)
    current = book["recipes"].get(f"{modality}-{budget}", {})
    measured = current.get("measured") or {}
    same_protocol = measured.get("minutes") == args.minutes and measured.get("device") == where
    if same_protocol and current["task"] != task and measured["margin_points"] >= margin:
        # A run of some tasks only: the recipe stands unless it was beaten at the same budget and device.
        print(f"recipe {modality}-{budget} kept: {current['task']} {measured['margin_points']:+.1f} points, "
              f"{task} {margin:+.1f}", file=sys.stderr)
        return
    book["recipes"][f"{modality}-{budget}"] = {
        "modality": modality, "budget": budget, "task": task, "task_args": parse_assignments(args.set),
        "backbone": rows[0]["used"]["backbone"],
        "train": {"max_minutes": args.minutes, "batch_size": args.batch_size},
        "measured": {"data": DATA_WORDS[modality], "kind": DATA_KINDS[modality],
                     "inputs": rows[0]["used"]["inputs"], "labels_per_class": 10,
                     "seeds": len(rows), "device": where,
                     "minutes": args.minutes,
                     "accuracy": accuracy, "baselines": baselines,
                     "margin_points": margin,
                     "steps": round(statistics.mean(r["steps"] for r in rows)),
                     "command": f"python bench/leaderboard.py --minutes {args.minutes:g} --seeds "
                                f"{' '.join(map(str, args.seeds))} --modality {modality} --write-recipes"
                                + "".join(f" --set {assignment}" for assignment in args.set)
                                + (f" --device {args.device} --batch-size {args.batch_size}"
                                   if budget == "gpu" else "")}}
    path.write_text(json.dumps(book, indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--modality", nargs="+", default=["image", "audio", "text"])
    parser.add_argument("--tasks", nargs="+", help="only these tasks (default: all of each modality)")
    parser.add_argument("--device", default="cpu", help="cpu (the protocol) or cuda, to see what compute buys")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a task setting, for every task run (use with --tasks)")
    parser.add_argument("--write-recipes", action="store_true",
                        help="make each modality's best task its recommended recipe for this budget")
    args = parser.parse_args()
    where = describe_device(resolve_device(args.device)) if args.device != "cpu" else "2 CPU cores"
    lines = [f"## {args.minutes:g} min of pretraining per run, {where}, batch {args.batch_size}, seeds {args.seeds}",
             "", f"Command: `python bench/leaderboard.py --minutes {args.minutes:g} --seeds "
             f"{' '.join(map(str, args.seeds))} --modality {' '.join(args.modality)}"
             + (f" --tasks {' '.join(args.tasks)}" if args.tasks else "")
             + "".join(f" --set {assignment}" for assignment in args.set)
             + (f" --device {args.device} --batch-size {args.batch_size}" if args.device != "cpu" else "") + "`", ""]
    verdicts = {}
    for modality in args.modality:
        folder, labelled = data_for(modality)
        lines += [f"### {modality}: `{folder.parent.name if modality != 'image' else folder.name}`", "",
                  "| task | steps | wall s | linear | kNN | random-init linear | raw linear | random-init kNN "
                  "| raw kNN |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        best_margin, best = None, None
        for task_cls in tasks_for(modality):
            skipped = modality == "image" and task_cls.needs_colour  # Fashion-MNIST has no colour to predict
            if skipped or (args.tasks and task_cls.name not in args.tasks):
                continue
            started = time.perf_counter()
            rows = [run_task(task_cls.name, folder, labelled, args.minutes, seed, args.device, args.batch_size,
                             parse_assignments(args.set)) for seed in args.seeds]
            col = {k: [r[k] for r in rows] for k in rows[0]}
            lines.append(f"| {task_cls.name} | {round(statistics.mean(col['steps']))} | "
                         f"{round(statistics.mean(col['seconds']))} | {mean_std(col['linear'])} | "
                         f"{mean_std(col['knn'])} | {mean_std(col['random_linear'])} | {mean_std(col['raw_linear'])} | "
                         f"{mean_std(col['random_knn'])} | {mean_std(col['raw_knn'])} |")
            margin = statistics.mean(col["linear"]) - max(statistics.mean(col["random_linear"]),
                                                          statistics.mean(col["raw_linear"]))
            if best_margin is None or margin > best_margin:
                best_margin, best = margin, (task_cls.name, rows)
            print(lines[-1], f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
        if best_margin is not None:
            verdicts[modality] = round(best_margin, 4)
            if args.write_recipes:
                write_recipe(modality, *best, args, where)
        lines.append("")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    report("leaderboard", "best task per modality beats both baselines by >= 0.05 (linear)",
           all(m >= 0.05 for m in verdicts.values()), best_margin=verdicts)


if __name__ == "__main__":
    main()

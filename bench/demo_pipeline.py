"""Rotation pretraining on 2,000 Fashion-MNIST images for <= 3 min on the CPU, then a linear probe
with 10 labels per class. Goal: SSL >= both baselines (random-init backbone, raw pixels) + 5 points.

The folder is built by the shared fashion_mnist_debian.py recipe (200 training images per class).
Probe: 10 labelled images per class drawn by seed, tested on the other 1,900; mean over 3 seeds.
"""
import argparse
import statistics
import tempfile
import time

from _common import fashion_subset, report

from sslstudio.core.data.labels import load_labelled
from sslstudio.core.evaluation.probe import probe
from sslstudio.core.training.session import TrainRequest, load_run, train


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--task", default="rotation", help="compare another image task under the same protocol")
    args = parser.parse_args()
    folder = fashion_subset(200)
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"max_minutes": args.minutes, "batch_size": args.batch_size,
                    "lr": args.lr, "seed": 0}
        task_args = dict(pair.split("=", 1) for pair in args.set)
        started = time.perf_counter()
        finished = train(TrainRequest(folder, tmp, args.task, task_args, train_settings=settings, device="cpu"))
        seconds = time.perf_counter() - started
        run = load_run(tmp)
        samples = load_labelled(folder, "image", run.pipeline.spec)
        scores = [probe(run, samples, 10, "linear", seed, baselines=True, device="cpu") for seed in range(3)]
    ssl = statistics.mean(s["accuracy"] for s in scores)
    random_init = statistics.mean(s["baselines"]["random_init"] for s in scores)
    raw = statistics.mean(s["baselines"]["raw"] for s in scores)
    margin = ssl - max(random_init, raw)
    print(f"{args.task}: trained {finished.step} steps in {seconds:.0f} s (incl. loading); linear probe, "
          f"10 labels/class, 3 seeds: SSL {ssl:.3f}, random-init {random_init:.3f}, raw pixels {raw:.3f}")
    report("demo_pipeline" if args.task == "rotation" else f"demo_pipeline_{args.task}",
           "SSL >= max(baselines) + 0.05 within 3 min", margin >= 0.05 and seconds <= 200,
           ssl=round(ssl, 4), random_init=round(random_init, 4), raw=round(raw, 4), margin=round(margin, 4),
           train_seconds=round(seconds), steps=finished.step)


if __name__ == "__main__":
    main()

"""Memory at real size: a generated folder of 200,000 JPEGs trained, embedded and probed at 224 px.

Target: the process's RSS stays within 3 GB on top of the model and optimizer, in every stage. For training,
"the model" is measured: the same model, task and steps on one batch held in memory (its weights, optimizer
state and activations); what the folder adds is the difference. Stages:
- building the store (decoding every file once);
- training (SimCLR, ResNet-18 with the ImageNet stem, batch 64; a few steps: the point is the memory);
- embedding every image (a small timm network, so 200k images take minutes on a CPU, not hours) into the
  per-checkpoint cache, streamed a batch at a time (the 200k x 1024 result is then loaded: 0.8 GB);
- a 10-label-per-class kNN probe with both baselines (on the default stratified draw of 10,000 labelled
  samples since issue 23; the run's own features read from the cache by rows).

Each stage runs in its own process so its peak is its own; RSS is sampled every 50 ms.

    python bench/memory.py [--images 200000] [--train-steps 20] [--stages build,train,embed,probe] [--keep-store]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import CACHE, REPO, report
from _images import generated_jpegs

STAGE = r"""
import json, os, sys, threading, time
sys.path.insert(0, {repo!r})

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

peak = [rss_mb()]
stop = threading.Event()
def watch():
    while not stop.wait(0.05):
        peak[0] = max(peak[0], rss_mb())
threading.Thread(target=watch, daemon=True).start()
started = time.perf_counter()
{body}
stop.set()
print(json.dumps({{"peak_rss_mb": round(peak[0]), "seconds": round(time.perf_counter() - started, 1), **extra}}))
"""

BUILD = """
from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.loaders import InputSpec
samples = load_folder({folder!r}, "image", spec=InputSpec(image_size=224))
extra = {{"samples": len(samples)}}
"""

TRAIN = """
import torch
from sslstudio.core.training.session import TrainRequest, prepare, train
from sslstudio.core.training.trainer import Trainer
request = TrainRequest({folder!r}, {run!r}, "simclr", backbone="resnet18_imagenet", inputs={{"image_size": 224}},
                       device="cpu", train_settings={{"epochs": 1000, "max_steps": {steps}, "batch_size": 64,
                                                      "log_every": 5}})
prepared = prepare(request)
model_mb = sum(t.numel() * t.element_size() for t in prepared.model.parameters()) / 2**20
baseline = rss_mb()
if {synthetic}:  # the same model, task and steps on one batch in memory: what the model itself takes
    raw = prepared.task.pipeline.training_raw(prepared.samples, range(64), seed=0)
    result = Trainer(prepared.task, prepared.model, raw, prepared.config).fit()
else:
    result = train(request, prepared=prepared)
extra = {{"steps": result.step, "rss_before_training_mb": round(baseline), "model_params_mb": round(model_mb, 1)}}
"""

EMBED = """
from sslstudio.core.data.dataset import load_folder
from sslstudio.core.embeddings.cache import load_or_compute
from sslstudio.core.training.session import TrainRequest, load_run, train
train(TrainRequest({folder!r}, {run!r}, "simclr", backbone="timm:mobilenetv3_small_050",
                   inputs={{"image_size": 224}}, device="cpu", train_settings={{"max_steps": 2, "batch_size": 16}}))
run = load_run({run!r})
samples = load_folder({folder!r}, "image", spec=run.pipeline.spec)
vectors = load_or_compute({run!r}, samples, device="cpu", loaded=run).vectors  # the result, in memory
extra = {{"embedded": int(vectors.shape[0]), "dim": int(vectors.shape[1]),
          "result_mb": round(vectors.nbytes / 2**20)}}
"""

PROBE = """
from sslstudio.core.data.dataset import load_folder
from sslstudio.core.evaluation.probe import probe
from sslstudio.core.training.session import load_run
run = load_run({run!r})
samples = load_folder({folder!r}, "image", spec=run.pipeline.spec)
scores = probe(run, samples, per_class=10, method="knn", seed=0, baselines=True, device="cpu")
extra = {{"knn_accuracy": round(scores["accuracy"], 3), "baselines": scores["baselines"],
          "n_test": scores["n_test"]}}
"""


def stage(name: str, body: str, env: dict) -> dict:
    print(f"[{name}] …", flush=True)
    code = STAGE.format(repo=str(REPO), body=body)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"{name} failed:\n{result.stderr[-3000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"[{name}] {figures}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200_000)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--stages", default="build,train,embed,probe", help="comma-separated, in this order")
    parser.add_argument("--keep-store", action="store_true", help="leave the 40-GB store for another run")
    args = parser.parse_args()
    stages = args.stages.split(",")
    started = time.perf_counter()
    folder = generated_jpegs(CACHE / f"jpeg256_{args.images}", args.images)
    print(f"{args.images} JPEGs at 256 px ({time.perf_counter() - started:.0f} s to make or find)")
    stores = Path(tempfile.mkdtemp(prefix="stores-", dir=CACHE))
    env = {**os.environ, "SSLSTUDIO_STORE": str(stores)}
    figures = {}
    with tempfile.TemporaryDirectory(dir=CACHE) as runs:
        if "build" in stages:
            figures["build"] = stage("build", BUILD.format(folder=str(folder)), env)
        if "train" in stages:
            body = TRAIN.format(folder=str(folder), run=f"{runs}/train", steps=args.train_steps, synthetic=False)
            figures["train"] = stage("train", body, env)
            body = TRAIN.format(folder=str(folder), run=f"{runs}/model", steps=args.train_steps, synthetic=True)
            figures["train_one_batch_in_memory"] = stage("train on one batch in memory", body, env)
        if "embed" in stages:
            figures["embed"] = stage("embed", EMBED.format(folder=str(folder), run=f"{runs}/embed"), env)
        if "probe" in stages:  # the run embedded above: its embeddings are read from the cache
            figures["probe"] = stage("probe", PROBE.format(folder=str(folder), run=f"{runs}/embed"), env)
    if not args.keep_store:
        import shutil

        shutil.rmtree(stores)
    peaks = {name: f["peak_rss_mb"] for name, f in figures.items()}
    if "train" in figures:  # what the folder adds beside the model's own training memory
        peaks["train"] = figures["train"]["peak_rss_mb"] - figures["train_one_batch_in_memory"]["peak_rss_mb"]
        del peaks["train_one_batch_in_memory"]
    print("peak RSS, MB: " + ", ".join(f"{name} {mb}" for name, mb in peaks.items())
          + (" (training: beside what the same model takes on one batch in memory)" if "train" in peaks else ""))
    report("memory", "<= 3 GB RSS beside the model's own training memory in every stage",
           max(peaks.values()) <= 3072, images=args.images, peaks_mb=peaks, **figures)


if __name__ == "__main__":
    main()

"""Every registered task for a few steps on CUDA (AMP, channels_last), then resume, embed and probe.

    python bench/gpu_smoke.py [--steps 20]

CI has no GPU, so this is the check that the CUDA paths of the trainer, the
tasks' live outputs and the probes run at all. It prints one line per task and
exits 1 if any failed.
"""
import argparse
import sys
import tempfile
import time
import traceback

import torch
from _common import report

from sslstudio.core.data.labels import load_labelled
from sslstudio.core.evaluation.probe import probe
from sslstudio.core.tasks.registry import TASKS
from sslstudio.core.training.device import describe_device, resolve_device
from sslstudio.core.training.events import TrainingFailed
from sslstudio.core.training.session import (
    TrainRequest,
    load_run,
    load_task_model,
    train,
)
from sslstudio.resources import demo_folder


def smoke(name: str, steps: int, backbone: str | None, device: str) -> str:
    task = TASKS[name]
    folder = demo_folder("emoji" if task.needs_colour else task.modality)  # the emoji set has colour
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"epochs": 1000, "max_steps": steps // 2, "batch_size": 32}
        request = TrainRequest(folder, tmp, name, backbone=backbone, device=device, train_settings=settings)
        first = train(request)
        if isinstance(first, TrainingFailed):
            return f"FAILED in training: {first.message}"
        resumed = train(TrainRequest(folder, tmp, name, device=device, resume=True,
                                     train_settings={"max_steps": steps}))
        if isinstance(resumed, TrainingFailed):
            return f"FAILED after resume: {resumed.message}"
        run = load_run(tmp)
        samples = load_labelled(folder, run.modality, run.pipeline.spec)
        accuracy = probe(run, samples, 5, "linear", 0, device=device)["accuracy"]
        task, model, _ = load_task_model(tmp)
        raw = task.pipeline.training_raw(samples, range(4), seed=0).to(device)
        with torch.no_grad():
            live = task.live_preview(model.to(device).backbone, model.heads, raw, 0)
        return f"ok: {resumed.step} steps, probe {accuracy:.3f}, {len(live)} live previews"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--device", default="cuda", help="cpu only to try this script where there is no GPU")
    args = parser.parse_args()
    print(describe_device(resolve_device(args.device)), f"torch {torch.__version__}", flush=True)
    failures = 0
    larger = [("rotation", "resnet18"), ("masked_spectrogram", "mel_resnet18")]
    for name, backbone in [(n, None) for n in TASKS] + larger:
        started = time.perf_counter()
        try:
            line = smoke(name, args.steps, backbone, args.device)
        except Exception:  # noqa: BLE001 - any failure is reported and the next task runs
            line = "FAILED: " + traceback.format_exc(limit=6)
        failures += line.startswith("FAILED")
        print(f"{name} [{backbone or 'default'}]: {line} ({time.perf_counter() - started:.1f} s)", flush=True)
    report("gpu_smoke", "every task trains, resumes, embeds and probes on CUDA", failures == 0, failures=failures)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

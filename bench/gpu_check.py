"""The GPU check: ResNet-50 at 224 px on 20k generated photos, real input pipeline against synthetic batches.

For each task (SimCLR, and DINO once it is registered), in one process:
- real: the whole path, store -> feed (pinned memory, side-stream copy) -> batched augmentation on the GPU ->
  ResNet-50 with AMP and channels_last;
- synthetic: the same Trainer, task and model on one uint8 batch already on the GPU (no reading, no copy).
It prints images/s (images, not views) for both, their ratio (target >= 0.9), the data-wait share and peak GPU
memory, and ends with one JSON line per task. Built to finish in under 8 minutes on one GPU:

    python bench/gpu_check.py                     (on the GPU machine; makes its own data, no network needed)
    python bench/gpu_check.py --smoke             (a tiny CPU run of the same code, to check the script)

The anchor is lightly's published ~1,900 img/s for SimCLR ResNet-18 at 32 px on one A6000.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import CACHE, report
from _images import generated_jpegs

from sslstudio.core.models.backbones import build_backbone
from sslstudio.core.tasks.registry import TASKS
from sslstudio.core.training.events import StepMetrics
from sslstudio.core.training.session import TrainRequest, prepare, train
from sslstudio.core.training.trainer import TaskModel, Trainer

GPU_TASKS = [name for name in ("simclr", "dino") if name in TASKS]


class OnDevice:
    """One raw batch already on the device, handed out every step: the synthetic baseline."""

    def __init__(self, raw: torch.Tensor, length: int):
        self.raw, self.length = raw, length

    def __len__(self) -> int:
        return self.length

    def batch(self, indices, seed: int, pin: bool = False) -> torch.Tensor:
        return self.raw[: len(indices)]


class Rate:
    """Images per second between the first logged step after warm-up and the last."""

    def __init__(self, batch: int, warmup_steps: int):
        self.batch, self.warmup = batch, warmup_steps
        self.marks, self.waits = [], []

    def __call__(self, event) -> None:
        if isinstance(event, StepMetrics) and event.step > self.warmup:
            self.marks.append((event.step, time.perf_counter()))
            self.waits.append(event.data_wait_share)

    def images_per_s(self) -> float:
        if len(self.marks) < 2:
            sys.exit("gpu_check: fewer than two steps were logged after the warm-up; give it more --minutes")
        (first_step, first_t), (last_step, last_t) = self.marks[0], self.marks[-1]
        return (last_step - first_step) * self.batch / max(last_t - first_t, 1e-9)

    def wait_share(self) -> float:
        return float(np.mean(self.waits))


def run_real(folder: Path, task: str, args, device: str) -> tuple[Rate, object]:
    rate = Rate(args.batch, args.warmup)
    with tempfile.TemporaryDirectory() as tmp:
        request = TrainRequest(folder, Path(tmp), task, backbone=args.backbone, inputs={"image_size": args.size},
                               device=device, train_settings={"max_minutes": args.minutes,
                                                              "batch_size": args.batch, "log_every": 10})
        prepared = prepare(request)
        train(request, [rate], prepared=prepared)
    return rate, prepared


def run_synthetic(prepared, args, device: str) -> Rate:
    """The same task and a fresh copy of the model, fed one batch that never leaves the GPU."""
    task = prepared.task
    torch.manual_seed(0)
    backbone = build_backbone("image", args.backbone, task.pipeline.backbone_context())
    model = TaskModel(task, backbone, task.build_heads(backbone))
    side = prepared.samples.records.side
    raw = torch.randint(0, 256, (args.batch, 3, side, side), dtype=torch.uint8, device=device)
    rate = Rate(args.batch, args.warmup)
    config = type(prepared.config)(epochs=10_000, max_minutes=args.minutes, batch_size=args.batch, log_every=10)
    Trainer(task, model, OnDevice(raw, 100 * args.batch), config, device=device, callbacks=[rate]).fit()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--minutes", type=float, default=0.75, help="training budget of each run")
    parser.add_argument("--warmup", type=int, default=20, help="steps left out of the rate (cuDNN autotuning)")
    parser.add_argument("--smoke", action="store_true", help="a tiny CPU run that checks this script")
    args = parser.parse_args()
    device = "cuda"
    if args.smoke:
        args.images, args.size, args.backbone, args.batch, args.minutes, args.warmup = 600, 32, "cnn_small", 32, 0.1, 0
        device = "cpu"
    elif not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device here (try --smoke)")
    torch.backends.cudnn.benchmark = device == "cuda"
    started = time.perf_counter()
    folder = generated_jpegs(CACHE / f"jpeg256_{args.images}", args.images)
    print(f"data: {args.images} JPEGs at 256 px ({time.perf_counter() - started:.0f} s)")
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU (smoke run)"
    print(f"device: {name}; torch {torch.__version__}; {args.backbone} at {args.size} px, batch {args.batch}, "
          f"AMP and channels_last on CUDA; tasks: {GPU_TASKS}")
    for task in GPU_TASKS:
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        real, prepared = run_real(folder, task, args, device)
        peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else 0.0
        synthetic = run_synthetic(prepared, args, device)
        ratio = real.images_per_s() / synthetic.images_per_s()
        print(f"{task}: real data {real.images_per_s():.0f} img/s (data wait {real.wait_share():.1%}), "
              f"synthetic on-device {synthetic.images_per_s():.0f} img/s, ratio {ratio:.2f}; peak {peak:.1f} GiB; "
              f"{time.perf_counter() - started:.0f} s with loading")
        report(f"gpu_{task}", "real/synthetic >= 0.9", ratio >= 0.9, img_per_s=round(real.images_per_s()),
               synthetic_img_per_s=round(synthetic.images_per_s()), ratio=round(ratio, 3),
               data_wait_share=round(real.wait_share(), 4), peak_gib=round(peak, 2), backbone=args.backbone,
               image_size=args.size, batch=args.batch, device=name)


if __name__ == "__main__":
    main()

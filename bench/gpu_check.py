"""The CUDA check behind gpu_check.sh: throughput, peak memory and data-wait share per task."""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from _common import CACHE, fashion_subset, report

from sslstudio.core.tasks.registry import TASKS
from sslstudio.core.training.events import StepMetrics
from sslstudio.core.training.session import TrainRequest, train

GPU_TASKS = [name for name in ("rotation", "simclr") if name in TASKS]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--prepare", action="store_true", help="build the 10k-image subset and stop")
    parser.add_argument("--minutes", type=float, default=1.5, help="training budget per task")
    args = parser.parse_args()
    if args.prepare:
        print(f"prepared {fashion_subset(1000)}")
        return
    if not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device here")
    prepared = CACHE / "fashion_1000"
    folder = args.folder or (prepared if prepared.is_dir() else fashion_subset(1000))
    print(f"device: {torch.cuda.get_device_name()}; torch {torch.__version__}; tasks: {GPU_TASKS}")
    for name in GPU_TASKS:
        events = []
        torch.cuda.reset_peak_memory_stats()
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            train(TrainRequest(folder, tmp, name, backbone="resnet18", device="cuda",
                               train_settings={"epochs": 1000, "max_minutes": args.minutes, "batch_size": 512,
                                               "log_every": 20}),
                  [lambda e: events.append(e) if isinstance(e, StepMetrics) else None])
            wall = time.perf_counter() - started
        steady = events[2:] or events
        speed = sum(e.samples_per_s for e in steady) / len(steady)
        wait = sum(e.data_wait_share for e in steady) / len(steady)
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f"{name}: {speed:.0f} samples/s, peak {peak:.2f} GiB, data wait {wait:.1%}, {wall:.0f} s wall")
        report(f"gpu_{name}", "SimCLR anchor ~1900 img/s on an A6000", True, samples_per_s=round(speed),
               peak_gib=round(peak, 2), data_wait_share=round(wait, 4))


if __name__ == "__main__":
    main()

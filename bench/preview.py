"""Preview of 16 samples per task on the CPU, from the bundled demo data. Target: <= 200 ms for every task.

Times `task.preview` (the training transform plus conversion to renderable items)
after one warm-up call, best of 5; one-time set-up (tokenizer training,
pipeline statistics, the jigsaw permutation set) is reported apart.
"""
import time

import torch
from _common import REPO, report

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.models.inputs import Pipeline
from sslstudio.core.tasks.registry import TASKS

FOLDER = {"image": "image", "audio": "audio", "text": "text"}


def main() -> None:
    torch.set_num_threads(2)
    pipelines = {}
    timings = {}
    for name, task_cls in TASKS.items():
        folder = "emoji" if task_cls.needs_colour else FOLDER[task_cls.modality]
        if folder not in pipelines:
            samples = load_folder(REPO / "resources" / "demo" / folder, task_cls.modality)
            pipeline = Pipeline.fit(samples)
            pipelines[folder] = (pipeline, pipeline.training_raw(samples, range(16), seed=0))
        pipeline, raw = pipelines[folder]
        started = time.perf_counter()
        task = task_cls(task_cls.Args(), pipeline)
        with torch.no_grad():
            task.preview(raw, 0)
            setup = time.perf_counter() - started
            best = float("inf")
            for seed in range(1, 6):
                started = time.perf_counter()
                task.preview(raw, seed)
                best = min(best, time.perf_counter() - started)
        timings[name] = round(best * 1000, 1)
        print(f"{name:<20} {best * 1000:7.1f} ms   (first call incl. set-up {setup * 1000:.0f} ms)")
    slowest = max(timings.values())
    report("preview", "<= 200 ms for 16 samples, every task", slowest <= 200, slowest_ms=slowest, per_task_ms=timings)


if __name__ == "__main__":
    main()

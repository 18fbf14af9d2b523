"""Samples/s through the Trainer / samples/s of a minimal hand-written loop. Target: >= 0.97.

Same task, model, batches (in memory) and process; the two loops alternate for
several rounds and each keeps its best round, so machine noise hits both alike.
"""
import statistics
import time

import torch
from _common import REPO, report

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.models.backbones import build_backbone
from sslstudio.core.models.inputs import Pipeline
from sslstudio.core.tasks.base import make_generator
from sslstudio.core.tasks.rotation import Rotation, RotationArgs
from sslstudio.core.training.device import set_cpu_threads
from sslstudio.core.training.trainer import TaskModel, TrainConfig, Trainer

STEPS, BATCH, ROUNDS = 40, 32, 4


def setup():
    samples = load_folder(REPO / "resources" / "demo" / "image", "image")
    pipeline = Pipeline.fit(samples)
    task = Rotation(RotationArgs(), pipeline)
    torch.manual_seed(0)
    backbone = build_backbone("image", None, {})
    raw = pipeline.training_raw(samples, range(len(samples)), seed=0)  # in memory: the loops alone are compared
    return task, TaskModel(task, backbone, task.build_heads(backbone)), raw


def hand_loop(task, model, raw) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    order = torch.randperm(len(raw))
    start = time.perf_counter()
    seen = 0
    for step in range(STEPS):
        index = order[(step * BATCH) % (len(raw) - BATCH):][:BATCH]
        batch = task.make_batch(raw[index], make_generator(step))
        loss = task.forward(model.backbone, model.heads, batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seen += batch.size
    loss.item()
    return seen / (time.perf_counter() - start)


def trainer_loop(task, model, raw) -> float:
    trainer = Trainer(task, model, raw, TrainConfig(epochs=1000, max_steps=STEPS, batch_size=BATCH))
    start = time.perf_counter()
    trainer.fit()
    return STEPS * BATCH * 4 / (time.perf_counter() - start)  # all_rotations: 4 images per sample


def main() -> None:
    print(f"torch threads: {set_cpu_threads(0)}")
    task, model, raw = setup()
    hand_loop(task, model, raw)  # warm-up: allocator, kernels
    hand, trainer = [], []
    for _ in range(ROUNDS):
        hand.append(hand_loop(task, model, raw))
        trainer.append(trainer_loop(task, model, raw))
    ratio = max(trainer) / max(hand)
    print(f"hand-written loop: {max(hand):.0f} samples/s (median {statistics.median(hand):.0f})")
    print(f"Trainer.fit:       {max(trainer):.0f} samples/s (median {statistics.median(trainer):.0f})")
    report("trainer_overhead", ">= 0.97", ratio >= 0.97, ratio=round(ratio, 3),
           trainer_samples_per_s=round(max(trainer)), hand_samples_per_s=round(max(hand)))


if __name__ == "__main__":
    main()

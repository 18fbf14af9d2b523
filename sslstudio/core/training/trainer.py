"""The training loop: a plain loop over batches, reporting through callbacks.

Batches come from a `Feed` that reads them a few steps ahead (feed.py). The permutation of epoch e
and the random draws of step s on each rank are derived from (seed, e) and (seed, s, rank), so a
resumed run sees exactly the batches it would have seen. The loss is read back from the device
only every `log_every` steps, never once per step.
"""
from __future__ import annotations

import math
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sslstudio.core.errors import RunError
from sslstudio.core.progress import Control
from sslstudio.core.tasks.base import PretextTask, make_generator
from sslstudio.core.training.checkpoint import (
    DISK_FULL,
    CheckpointNotSaved,
    load_into,
    restore_rng_state,
    rng_state,
    save_checkpoint,
)
from sslstudio.core.training.config import DEFAULT_EPOCHS, TrainConfig
from sslstudio.core.training.distributed import any_rank, rank_and_world
from sslstudio.core.training.events import (
    CheckpointSaved,
    Event,
    HealthMetrics,
    StepMetrics,
    TrainingFailed,
    TrainingFinished,
)
from sslstudio.core.training.feed import Feed, TrainingData, as_training_data
from sslstudio.core.training.health import collapse_std, effective_rank
from sslstudio.core.training.knn_monitor import KnnMonitor
from sslstudio.core.training.memory import is_out_of_memory, out_of_memory_advice
from sslstudio.core.training.run_dir import RunDir

FIRST_CHECKPOINT_SECONDS = 15.0  # a crash in a run's first minutes keeps something


class TaskModel(nn.Module):
    """Backbone plus heads as one module, so DDP and the optimizer see a single model."""

    def __init__(self, task: PretextTask, backbone: nn.Module, heads: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.heads = heads
        self._task = task

    def forward(self, batch):
        out = self._task.forward(self.backbone, self.heads, batch)
        return out.loss, out.embeddings, out.metrics


class NonFiniteLoss(RuntimeError):
    pass


class Trainer:
    def __init__(self, task: PretextTask, model: TaskModel, data: TrainingData | torch.Tensor, config: TrainConfig,
                 run_dir: RunDir | None = None, device: torch.device | str = "cpu",
                 callbacks: list[Callable[[Event], None]] | None = None,
                 control: Control | None = None, monitor: KnnMonitor | None = None):
        self.task, self.model, self.data, self.config = task, model, as_training_data(data), config
        self.monitor = monitor
        self.run_dir = run_dir
        self.device = torch.device(device)
        self.callbacks = list(callbacks or [])
        self.control = control or Control()
        self.saved_step: int | None = None  # the step of the newest checkpoint on disk
        self.model.to(self.device)
        self.channels_last = self.device.type == "cuda" and task.modality in ("image", "audio")
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.task.pipeline.preprocess.to(self.device)
        self.rank, self.world = rank_and_world()
        if run_dir is not None and self.rank == 0:
            run_dir.path.mkdir(parents=True, exist_ok=True)
        self.wrapped = self._wrap_distributed(model)
        # A task may give parts of the model their own learning-rate scale (fine-tuning: the
        # pretrained backbone learns slower than the new head).
        self.optimizer = torch.optim.AdamW(task.param_groups(model), lr=config.lr, weight_decay=config.weight_decay)
        self.amp_dtype = amp_dtype(self.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.step = 0
        self.elapsed = 0.0
        self.setup_seconds = 0.0
        self._permutation: tuple[int, torch.Tensor] | None = None
        self.feed: Feed | None = None

    # ------------------------------------------------------------ sizes
    @property
    def steps_per_epoch(self) -> int:
        per_rank = len(self.data) // self.world
        batch = min(self.config.batch_size, per_rank)
        return max(1, per_rank // batch)  # drop the ragged last batch: BatchNorm dislikes tiny ones

    @property
    def samples_per_step(self) -> int:
        return min(self.config.batch_size, len(self.data) // self.world)

    @property
    def epochs(self) -> int | None:
        config = self.config
        if config.epochs is not None:
            return config.epochs
        return None if config.max_minutes or config.max_steps else DEFAULT_EPOCHS

    @property
    def total_steps(self) -> int | None:
        """The step limit, or None when time alone ends the run (a time budget and no epochs or steps)."""
        limits = [self.epochs * self.steps_per_epoch if self.epochs else None, self.config.max_steps or None]
        return min((limit for limit in limits if limit), default=None)

    # ------------------------------------------------------------ public
    def resume_from(self, path: Path | None = None) -> None:
        """Continue from `path`, or from the run's last checkpoint."""
        state, path = self.run_dir.load_state(path)
        if state.get("backbone_only"):
            raise RunError(f"{path} holds a backbone alone (a reference run): there is no training state to "
                           f"resume; start a new run instead")
        load_into(self.model, state["model"], path)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        restore_rng_state(state["rng"])
        self.step = int(state["progress"]["step"])
        self.elapsed = float(state["progress"]["elapsed"])
        self.saved_step = self.step

    def fit(self) -> TrainingFinished | TrainingFailed:
        try:
            return self._fit()
        except (NonFiniteLoss, CheckpointNotSaved) as exc:
            event = TrainingFailed(self.step, str(exc))
        except OSError as exc:  # the run folder turned read-only, or vanished: the machine, not a bug
            where = f": {exc.filename}" if exc.filename is not None else ""
            event = TrainingFailed(self.step, f"{exc.strerror or exc}{where}; training stopped and {self._kept()}")
        except Exception as exc:  # noqa: BLE001 - any failure ends the run as an event the front ends show
            if is_out_of_memory(exc):
                image_size = self.task.pipeline.spec.image_size if self.task.modality == "image" else None
                advice = out_of_memory_advice(self.samples_per_step, image_size)
                event = TrainingFailed(self.step, f"out of memory on the {self.device.type} with batches of "
                                                  f"{self.samples_per_step}: {advice}; training stopped and "
                                                  f"{self._kept()}")
            else:
                event = TrainingFailed(self.step, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        self._emit(event)
        return event

    # ------------------------------------------------------------ loop
    def _fit(self) -> TrainingFinished:
        total = self.total_steps
        self.model.train()
        started, last_checkpoint = time.perf_counter() - self.elapsed, time.perf_counter()
        window = _Window(self.step, time.perf_counter())
        loss_sum = torch.zeros((), device=self.device)
        self.feed = Feed(self.data, self._indices_of, self._read_seed, self.device, self.step,
                         total if total is not None else sys.maxsize)
        try:
            reason = self._loop(total, started, last_checkpoint, window, loss_sum)
        finally:
            self.feed.close()
        if self.saved_step != self.step:
            self._save_checkpoint()
        event = TrainingFinished(self.step, reason or self._limit_reached(), round(self.elapsed, 2),
                                 round(self.setup_seconds, 2))
        self._emit(event)
        return event

    def _limit_reached(self) -> str:
        epochs_limit = self.epochs * self.steps_per_epoch if self.epochs else None
        if epochs_limit is not None and self.step >= epochs_limit:
            return f"{self.epochs} epochs done"
        return f"step limit of {self.config.max_steps} reached"

    def _loop(self, total: int | None, started: float, last_checkpoint: float, window: _Window,
              loss_sum: torch.Tensor) -> str | None:
        config = self.config
        reason = None
        first = True
        while total is None or self.step < total:
            self.control.wait_while_paused()
            reason = self._stop_reason()
            if reason:
                break
            out = self._train_step(window)
            if first:  # the wait for the first batch (threads, files, caches warming up) is set-up, not budget
                first = False
                self.setup_seconds += window.data_seconds
                started += window.data_seconds
                window.started += window.data_seconds
                window.data_seconds = 0.0
            loss_sum += out[0].detach()
            self.step += 1
            self.elapsed = time.perf_counter() - started
            if self.step % config.log_every == 0 or self.step == total:
                self._log(loss_sum / (self.step - window.step), out, window)
                loss_sum.zero_()
                window = _Window(self.step, time.perf_counter())
            interval = config.checkpoint_minutes * 60
            if self.saved_step is None:
                interval = min(interval, FIRST_CHECKPOINT_SECONDS)
            if time.perf_counter() - last_checkpoint > interval:
                self._save_checkpoint()
                last_checkpoint = time.perf_counter()
        return reason

    def _stop_reason(self) -> str | None:
        """Cancelled or out of time. Ranks agree once per log window, so all stop at the same step."""
        if self.world > 1 and self.step % self.config.log_every:
            return None
        cancelled = any_rank(self.control.cancelled, self.device)
        budget = self.config.max_minutes
        out_of_time = any_rank(budget is not None and self.elapsed >= budget * 60, self.device)
        return "cancelled" if cancelled else f"time budget of {budget:g} min used" if out_of_time else None

    def _train_step(self, window: _Window):
        raw, waited = self.feed.next()
        window.data_seconds += waited
        batch = self.task.make_batch(raw, self._step_generator())
        if self.channels_last and batch.inputs.dim() == 4:  # jigsaw's tile stacks are 5-D
            batch.inputs = batch.inputs.contiguous(memory_format=torch.channels_last)
        window.samples += self.samples_per_step
        window.views += batch.size
        self._set_lr()
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            loss, embeddings, metrics = self.wrapped(batch)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.task.after_step(self.model, self._progress())
        return loss, embeddings, metrics

    def _step_generator(self) -> torch.Generator:
        """The random draws of one step on one rank, derived from (seed, step, rank) alone."""
        seed = np.random.SeedSequence([self.config.seed, self.step, self.rank]).generate_state(1)[0]
        return make_generator(int(seed))

    def _read_seed(self, step: int) -> int:
        """Where step `step` reads its audio and text windows (the feed's thread calls it)."""
        return int(np.random.SeedSequence([self.config.seed, step, self.rank, 1]).generate_state(1)[0])

    def _indices_of(self, step: int) -> np.ndarray:
        """The samples of step `step` on this rank (the feed's thread calls it, in step order)."""
        epoch, position = divmod(step, self.steps_per_epoch)
        if self._permutation is None or self._permutation[0] != epoch:
            order = torch.randperm(len(self.data), generator=make_generator(self.config.seed * 7919 + epoch))
            self._permutation = (epoch, order[self.rank::self.world])
        batch = min(self.config.batch_size, len(self._permutation[1]))
        return self._permutation[1][position * batch:(position + 1) * batch].numpy()

    def _set_lr(self) -> None:
        self.current_lr = self.config.lr * lr_factor(self._progress(), self.config.warmup_fraction)
        for group in self.optimizer.param_groups:
            group["lr"] = self.current_lr * group.get("lr_scale", 1.0)

    def _progress(self) -> float:
        """Share of the budget used: steps, or wall time when a time budget is tighter (or the only one)."""
        total = self.total_steps
        progress = self.step / max(1, total) if total is not None else 0.0
        if self.config.max_minutes:
            progress = max(progress, self.elapsed / (self.config.max_minutes * 60))
        return min(progress, 1.0)

    # ------------------------------------------------------------ reporting
    def _log(self, mean_loss: torch.Tensor, out, window: _Window) -> None:
        loss = float(mean_loss)
        if not math.isfinite(loss):
            kept = "the last good checkpoint is kept" if self.run_dir and self.run_dir.has_checkpoint() \
                else "no checkpoint was written yet"
            raise NonFiniteLoss(f"loss is {loss} at step {self.step}; training stopped and {kept}. "
                                f"Try a lower learning rate.")
        seconds = max(time.perf_counter() - window.started, 1e-9)
        steps_per_s = (self.step - window.step) / seconds
        total = self.total_steps
        eta = (total - self.step) / max(steps_per_s, 1e-9) if total is not None else math.inf
        seconds_left = None
        if self.config.max_minutes:
            seconds_left = max(0.0, self.config.max_minutes * 60 - self.elapsed)
            eta = min(eta, seconds_left)
        metrics = {k: round(float(v), 5) for k, v in out[2].items()}
        step_event = StepMetrics(self.step, self.step // self.steps_per_epoch, total, loss,
                                 self.current_lr, window.samples / seconds, eta, window.data_seconds / seconds,
                                 metrics, window.views / seconds, round(self._progress(), 4))
        embeddings = out[1].detach()
        knn = None
        if self.monitor is not None and self.rank == 0 and self.monitor.due(self.elapsed, seconds_left):
            knn = self.monitor.measure(self.model.backbone, self.device)
        health = HealthMetrics(self.step, collapse_std(embeddings), 1 / math.sqrt(embeddings.shape[1]),
                               effective_rank(embeddings), embeddings.shape[1], knn)
        if self.run_dir is not None and self.rank == 0:
            record = {**asdict(step_event), **asdict(health), "elapsed_s": round(self.elapsed, 3)}
            self.run_dir.append_metrics(record)
        self._emit(step_event)
        self._emit(health)

    def _save_checkpoint(self) -> None:
        if self.run_dir is None or self.rank != 0:
            return
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "scaler": self.scaler.state_dict(), "rng": rng_state(),
                 "progress": {"step": self.step, "elapsed": self.elapsed, "total_steps": self.total_steps}}
        try:
            save_checkpoint(self.run_dir.last_checkpoint, state)
        except CheckpointNotSaved as exc:
            raise CheckpointNotSaved(f"{exc} while saving the checkpoint of step {self.step}; {self._kept()}") from None
        self.saved_step = self.step
        try:
            kept = self.run_dir.keep_checkpoint(self.step)
        except OSError as exc:  # last.pt is whole; only its kept copy is missing
            raise CheckpointNotSaved(f"{'disk full' if exc.errno in DISK_FULL else exc.strerror or exc} while "
                                     f"keeping a copy of step {self.step}; checkpoints/last.pt holds step "
                                     f"{self.step}") from None
        self._emit(CheckpointSaved(self.step, str(kept)))

    def _kept(self) -> str:
        """Which checkpoint a run that stops now leaves, in words."""
        return (f"the checkpoint of step {self.saved_step} is kept" if self.saved_step is not None
                else "no earlier checkpoint of this run exists")

    def _emit(self, event: Event) -> None:
        if self.rank != 0:
            return
        for callback in self.callbacks:
            callback(event)

    def _wrap_distributed(self, model: nn.Module) -> nn.Module:
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)


@dataclass
class _Window:
    """Counters between two log points."""

    step: int
    started: float
    samples: int = 0
    views: int = 0  # what the model sees: rotation's four turns of each image count four times
    data_seconds: float = 0.0


def lr_factor(progress: float, warmup: float) -> float:
    """Linear warm-up, then cosine decay to zero."""
    if progress < warmup:
        return (progress + 1e-3) / warmup
    return 0.5 * (1 + math.cos(math.pi * (progress - warmup) / max(1e-9, 1 - warmup)))


def amp_dtype(device: torch.device):
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

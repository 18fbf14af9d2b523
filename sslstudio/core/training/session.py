"""Set up a run from a folder and a task name, train it, and load it back later.

This is the one place that wires data, pipeline, task, backbone and trainer
together; the CLI and the GUI both call it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sslstudio.core.data.dataset import SampleSet, load_folder
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.data.scan import ScanResult, scan_folder
from sslstudio.core.errors import RunError, UserError
from sslstudio.core.models.backbones import build_backbone, check_backbone, default_backbone, load_initial_weights
from sslstudio.core.models.inputs import Pipeline
from sslstudio.core.progress import Control, Progress
from sslstudio.core.tasks.base import PretextTask
from sslstudio.core.tasks.registry import get_task
from sslstudio.core.training.checkpoint import all_finite, load_into
from sslstudio.core.training.config import TrainConfig
from sslstudio.core.training.device import resolve_device, set_cpu_threads
from sslstudio.core.training.distributed import rank_and_world
from sslstudio.core.training.events import Event, TrainingFailed, TrainingFinished
from sslstudio.core.training.feed import SampleData
from sslstudio.core.training.knn_monitor import KnnMonitor
from sslstudio.core.training.run_dir import RunDir
from sslstudio.core.training.tensorboard import board_for
from sslstudio.core.training.trainer import TaskModel, Trainer, amp_dtype


@dataclass
class TrainRequest:
    folder: Path
    out: Path
    task: str | None = None  # may be omitted when resuming
    task_args: dict = field(default_factory=dict)
    backbone: str | None = None  # default: one that suits the device and the input size
    inputs: dict = field(default_factory=dict)  # InputSpec fields given by the user; the rest suit the folder
    train_settings: dict = field(default_factory=dict)  # TrainConfig fields given by the user
    device: str = "auto"
    resume: bool = False
    resume_from: str | None = None  # a kept checkpoint of the run; default its last one
    init: str | None = None  # a local weights file (torchvision or timm state_dict) to start the backbone from
    cpu_cores_free: int = 0  # the GUI passes 1 so its own thread keeps a core
    recipe: str | None = None  # a recommended recipe (core/recipes.py); without a task, the folder's is used

    def check(self) -> None:
        """Raise UserError, saying what to change, when a setting is out of range or two conflict; nothing
        is loaded. The GUI refuses Start with this message; `prepare` would fail the same way later."""
        if self.task:
            get_task(self.task).Args.from_mapping(self.task_args)
        InputSpec.from_mapping(self.inputs)
        TrainConfig.from_mapping(self.train_settings)


@dataclass
class PreparedRun:
    task: PretextTask
    model: TaskModel
    samples: SampleSet
    run_dir: RunDir
    config: TrainConfig
    resumed: bool
    notes: list[str] = field(default_factory=list)  # the chosen inputs and backbone, and why, in words


@dataclass
class _Plan:
    """What a run is made of, before any data is loaded."""

    task_cls: type[PretextTask]
    task_args: object
    backbone: str
    spec: InputSpec
    config: TrainConfig
    pipeline: Pipeline | None = None  # a resumed run's, as saved
    init: str | None = None
    notes: list[str] = field(default_factory=list)
    recipe: str | None = None


def prepare(request: TrainRequest, progress: Progress | None = None) -> PreparedRun:
    """Load the data and build task and model, fresh or from the run's saved state."""
    set_cpu_threads(request.cpu_cores_free)  # before decoding, which also leaves those cores free
    run_dir = RunDir(request.out)
    rank, world = rank_and_world()
    # Under torchrun only rank 0 writes the run folder. Locked until train() ends, from before the check
    # that the folder holds no run yet.
    created = run_dir.lock(create=not request.resume) if rank == 0 else False
    try:
        return _prepare(request, run_dir, rank, world, progress)
    except BaseException:
        run_dir.unlock(remove_if_empty=created)
        raise


def _prepare(request: TrainRequest, run_dir: RunDir, rank: int, world: int,
             progress: Progress | None) -> PreparedRun:
    scan = scan_folder(request.folder)  # once: the plan's input survey and the loading both read it
    plan = _resumed_plan(request, run_dir) if request.resume else _fresh_plan(request, run_dir, scan)
    samples = load_folder(request.folder, plan.task_cls.modality, spec=plan.spec, progress=progress, scan=scan,
                          trust_recent_sync=rank > 0)
    torch.manual_seed(plan.config.seed)
    pipeline = plan.pipeline or _fitted_pipeline(samples, rank, world)
    task = plan.task_cls(plan.task_args, pipeline)
    backbone = build_backbone(plan.task_cls.modality, plan.backbone, pipeline.backbone_context())
    if plan.init and not request.resume:
        plan.notes.append("started from " + load_initial_weights(backbone, plan.init))
        if not all_finite(backbone.state_dict()):
            raise RunError(f"{plan.init} holds weights that are not finite (NaN or infinity)")
    model = TaskModel(task, backbone, task.build_heads(backbone))
    warning = _check_memory(model, task, samples, plan, resolve_device(request.device), world)
    if warning:
        plan.notes.append(warning)
    prepared = PreparedRun(task, model, samples, run_dir, plan.config, request.resume, plan.notes)
    if rank != 0:  # under torchrun only rank 0 writes the run folder
        return prepared
    if not request.resume:
        pipeline.save(run_dir.path)
    run_dir.write_config({
        "task": plan.task_cls.name, "task_args": plan.task_args.to_dict(), "modality": plan.task_cls.modality,
        "backbone": plan.backbone, "init": plan.init, "spec": asdict(plan.spec), "train": asdict(plan.config),
        "recipe": plan.recipe,
        "data": {"folder": str(Path(request.folder).resolve()), "fingerprint": samples.fingerprint(),
                 "samples": len(samples), "skipped": len(samples.bad)},
    })
    return prepared


def _check_memory(model: TaskModel, task: PretextTask, samples: SampleSet, plan: _Plan, device: torch.device,
                  world: int) -> str | None:
    """Refuse a run whose step cannot fit in the memory available (RunError, naming what to lower); a warning
    for one that barely fits."""
    from sslstudio.core.training import memory

    raw = task.pipeline.training_raw(samples, np.arange(min(memory.PROBE_SAMPLES, len(samples))), seed=0)
    batch = min(plan.config.batch_size, max(1, len(samples) // world))
    image_size = plan.spec.image_size if task.modality == "image" else None
    need = memory.measure(model, task, raw, batch, device, image_size, amp_dtype(device))
    return memory.check(need, memory.available(device))


def _fitted_pipeline(samples: SampleSet, rank: int, world: int) -> Pipeline:
    """Fitted on the pretraining data. Under torchrun rank 0 fits and the others receive its pipeline: the
    WordPiece trainer is not deterministic across processes, and every rank must tokenize alike."""
    import torch.distributed as dist

    if world == 1 or not dist.is_initialized():
        return Pipeline.fit(samples)
    state = [Pipeline.fit(samples).to_state() if rank == 0 else None]
    dist.broadcast_object_list(state, src=0)
    return Pipeline.from_state(state[0])


def _fresh_plan(request: TrainRequest, run_dir: RunDir, scan: ScanResult) -> _Plan:
    if run_dir.has_checkpoint():
        raise RunError(f"{request.out} already holds a run; pass --resume to continue it or choose another --out")
    recipe = None
    if request.recipe or not request.task:
        from sslstudio.core.recipes import apply_recipe

        modality = get_task(request.task).modality if request.task else scan.choose_modality()
        request, recipe = apply_recipe(request, modality, resolve_device(request.device).type)
    task_cls = get_task(request.task)
    task_args = task_cls.Args.from_mapping(request.task_args)
    spec, notes = suited_inputs(request.folder, task_cls.modality, request.device, request.inputs, scan)
    backbone = request.backbone or default_backbone(task_cls.modality, resolve_device(request.device).type,
                                                    spec.image_size, task_cls.backbones)
    check_backbone(task_cls.modality, backbone)
    if task_cls.backbones and backbone not in task_cls.backbones:
        raise UserError(f"{task_cls.name} trains only {' or '.join(task_cls.backbones)}, not {backbone}")
    if not request.backbone:
        notes.append(f"backbone {backbone} (--backbone to choose another)")
    if recipe is not None:
        notes.insert(0, f"recipe {recipe.name}: {recipe.summary()}. {recipe.evidence()}")
    init = str(request.init) if request.init else None
    config = TrainConfig.from_mapping(request.train_settings)
    return _Plan(task_cls, task_args, backbone, spec, config, None, init, notes, recipe.name if recipe else None)


def _resumed_plan(request: TrainRequest, run_dir: RunDir) -> _Plan:
    if not run_dir.has_checkpoint():
        raise RunError(f"nothing to resume: {run_dir.last_checkpoint} does not exist")
    saved = run_dir.read_config()
    if request.task and request.task != saved["task"]:
        raise RunError(f"{request.out} holds a {saved['task']!r} run, not {request.task!r}")
    task_cls = get_task(saved["task"])
    pipeline = Pipeline.load(run_dir.path)
    conflicts = _resume_conflicts(request, saved, task_cls, pipeline.spec)
    if conflicts:
        raise RunError(f"--resume continues {request.out} as it was set up, so these cannot change: "
                       f"{', '.join(conflicts)}; drop them, or start a new run with another --out")
    was = TrainConfig.from_mapping(saved["train"])
    config = TrainConfig.from_mapping({**saved["train"], **request.train_settings})
    changed = [f"{name} {getattr(config, name)} (was {getattr(was, name)})" for name in request.train_settings
               if getattr(config, name) != getattr(was, name)]
    notes = ["changed on resume: " + ", ".join(changed)] if changed else []
    return _Plan(task_cls, task_cls.Args.from_mapping(saved["task_args"]), saved["backbone"], pipeline.spec, config,
                 pipeline, saved.get("init"), notes)


FIXED_ON_RESUME = ("batch_size", "seed")  # they decide which samples each step sees, which a resumed run keeps


def _resume_conflicts(request: TrainRequest, saved: dict, task_cls: type[PretextTask], spec: InputSpec) -> list[str]:
    """The options given with --resume that would make another run than the one saved, each named with the
    run's own value: they were silently ignored, or (the batch size) silently changed the batches."""
    conflicts = [flag for flag, given in (("--init", request.init), ("--recipe", request.recipe)) if given]
    if request.backbone and request.backbone != saved["backbone"]:
        conflicts.append(f"--backbone {request.backbone} (the run has {saved['backbone']})")
    saved_args = task_cls.Args.from_mapping(saved["task_args"])
    saved_train = TrainConfig.from_mapping(saved["train"])
    given = [(f"--{name.replace('_', '-')} ", InputSpec.coerce(name, value), getattr(spec, name))
             for name, value in request.inputs.items()]
    given += [(f"--{name.replace('_', '-')} ", TrainConfig.coerce(name, request.train_settings[name]),
               getattr(saved_train, name)) for name in FIXED_ON_RESUME if name in request.train_settings]
    given += [(f"--set {name}=", task_cls.Args.coerce(name, value), getattr(saved_args, name))
              for name, value in request.task_args.items()]
    conflicts += [f"{flag}{value} (the run has {kept})" for flag, value, kept in given if value != kept]
    return conflicts


def suited_inputs(folder: Path, modality: str, device: str, given: dict,
                  scan: ScanResult | None = None) -> tuple[InputSpec, list[str]]:
    """The input settings for this folder on this device: the user's, the rest proposed from the files
    (`scan`: the folder's, when the caller has made one)."""
    from sslstudio.core.data.survey import folder_survey, recommend

    advice = recommend(folder_survey(folder, modality, scan), resolve_device(device).type, given)
    return advice.spec, advice.notes + advice.warnings


def train(request: TrainRequest, callbacks: list[Callable[[Event], None]] | None = None,
          control: Control | None = None,
          prepared: PreparedRun | None = None) -> TrainingFinished | TrainingFailed:
    prepared = prepared or prepare(request)
    try:
        device = resolve_device(request.device)
        data = SampleData(prepared.samples, prepared.task.pipeline)
        trainer = Trainer(prepared.task, prepared.model, data, prepared.config, prepared.run_dir, device, callbacks,
                          control, _knn_monitor(prepared))
        if prepared.resumed:
            trainer.resume_from(request.resume_from)
            prepared.run_dir.drop_metrics_after(trainer.step)
        board = board_for(prepared.run_dir.path, trainer.step if prepared.resumed else None) \
            if trainer.rank == 0 else None
        if board is not None:
            trainer.callbacks.append(board)
        try:
            return trainer.fit()
        finally:
            if board is not None:
                board.close()
    finally:
        prepared.run_dir.unlock()


def _knn_monitor(prepared: PreparedRun) -> KnnMonitor | None:
    """Online kNN on the labelled samples of the training folder, if it has any (labels never reach the loss)."""
    samples = prepared.samples
    labelled = [i for i, label in enumerate(samples.labels) if label is not None]
    if len(set(samples.labels[i] for i in labelled)) < 2:
        return None
    return KnnMonitor(samples, prepared.task.pipeline, seed=prepared.config.seed)


# ------------------------------------------------------------------ loading
@dataclass
class LoadedRun:
    """A trained run's backbone in eval mode, with its pipeline and config."""

    config: dict
    pipeline: Pipeline
    backbone: nn.Module
    run_dir: RunDir
    checkpoint: Path | None = None  # the weights loaded; None for a random-init baseline

    @property
    def modality(self) -> str:
        return self.config["modality"]

    def with_random_backbone(self, seed: int) -> LoadedRun:
        """The same architecture and pipeline, randomly initialised: the random-init baseline."""
        torch.manual_seed(seed)
        backbone = build_backbone(self.modality, self.config["backbone"], self.pipeline.backbone_context())
        return replace(self, backbone=backbone.eval(), checkpoint=None)


def load_task_model(path: str | Path, overrides: dict | None = None,
                    checkpoint: str | Path | None = None) -> tuple[PretextTask, TaskModel, dict]:
    """A run's task (its saved settings, plus `overrides`) and trained model, heads included, from
    `checkpoint` (any kept one) or the run's last."""
    run_dir = RunDir(path)
    config = run_dir.read_config()
    pipeline = Pipeline.load(run_dir.path)
    task_cls = get_task(config["task"])
    task = task_cls(task_cls.Args.from_mapping({**config["task_args"], **(overrides or {})}), pipeline)
    backbone = build_backbone(config["modality"], config["backbone"], pipeline.backbone_context())
    model = TaskModel(task, backbone, task.build_heads(backbone))
    state, path = run_dir.load_state(checkpoint)
    # A reference run (core/reference.py) ships the backbone alone: its heads stay as built.
    load_into(model.backbone if state.get("backbone_only") else model, state["model"], path)
    return task, model.eval(), config


def load_run(path: str | Path, checkpoint: str | Path | None = None) -> LoadedRun:
    task, model, config = load_task_model(path, checkpoint=checkpoint)
    chosen = Path(checkpoint) if checkpoint else RunDir(path).last_checkpoint
    return LoadedRun(config, task.pipeline, model.backbone, RunDir(path), chosen)

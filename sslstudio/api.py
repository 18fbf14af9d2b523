"""sslstudio from Python: a notebook's or a script's way to the same pipeline the CLI and the workbench run.

    import sslstudio
    samples = sslstudio.open_folder("photos/")                 # scanned and decoded once, into the store
    run = sslstudio.train(samples, task="simclr", minutes=5)   # a run folder, as the app and CLI make
    vectors = run.embed(samples)                               # (N, D) float32, in samples.ids order
    report = run.probe("labelled/", per_class=10)              # accuracy, with both baselines
    run.export("onnx", "model.onnx", labelled="labelled/")     # checked against the app's own embeddings

Every function here calls the core functions the CLI's commands call (loading, training, embedding, probing,
export); nothing is computed a third way. Results are plain dataclasses. Long work reports to `progress`: a
callable `progress(done, total)`, or True for a tqdm bar (a notebook widget inside Jupyter). Training stops
from another thread through a `Control` (`control.cancel()`), and the run keeps its last checkpoint.
Arguments are checked on the way in: a wrong type or value raises UserError, in one sentence, before any work.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.data.scan import scan_folder
from sslstudio.core.errors import UserError
from sslstudio.core.evaluation.settings import MAX_SAMPLES, ProbeSettings
from sslstudio.core.export_settings import ExportSettings
from sslstudio.core.io import check_writable
from sslstudio.core.progress import Control, Progress
from sslstudio.core.training.config import TrainConfig

__all__ = ["Control", "ExportReport", "ProbeReport", "Run", "Samples", "TrainingError", "UserError", "open_folder",
           "open_run", "train"]


class TrainingError(UserError):
    """Training stopped on an error; `result` holds the step and the traceback, and the run folder what was kept."""

    def __init__(self, message: str, result):
        super().__init__(message)
        self.result = result


@dataclass
class Samples:
    """One modality of a folder, decoded once into the sample store at `spec`: what training, embedding and
    probing read. `ids` are the files' paths inside the folder; `labels` their class folders (None without)."""

    folder: Path
    modality: str
    spec: InputSpec
    sample_set: object = field(repr=False)  # core.data.dataset.SampleSet
    notes: list[str] = field(default_factory=list)  # how the input settings were chosen, in words

    def __len__(self) -> int:
        return len(self.sample_set)

    @property
    def ids(self) -> list[str]:
        return list(self.sample_set.ids)

    @property
    def labels(self) -> list[str | None]:
        return list(self.sample_set.labels)

    @property
    def classes(self) -> list[str]:
        return sorted({label for label in self.sample_set.labels if label is not None})

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """The files that could not be used, with the reason for each."""
        return [(bad.path, bad.reason) for bad in self.sample_set.bad]


def open_folder(folder: str | Path, modality: str | None = None, labels: str = "auto", device: str = "auto",
                progress: Progress | bool | None = None, **inputs) -> Samples:
    """Scan `folder` and decode its files of `modality` (default: the kind it holds most of) into the store.

    `inputs`: input settings (image_size, sample_rate, clip_seconds, max_tokens, ...; `sslstudio settings`
    lists them); the others are proposed from the files for `device`, as the app proposes them. `labels`:
    "auto" takes class folders when every file sits in one, "folders" always, "none" never.
    """
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.training.session import suited_inputs

    folder = _path_arg(folder, "folder")
    _name_arg(modality, "modality")
    _name_arg(device, "device")
    _choice_arg(labels, "labels", LABEL_SOURCES)
    _progress_arg(progress)
    scan = scan_folder(folder)
    modality = scan.choose_modality(modality) if modality else scan.main_modality()
    if modality is None:
        scan.choose_modality()  # raises, saying what the folder holds instead
    InputSpec.from_mapping(inputs)  # an unknown or out-of-range setting fails here, before any decoding
    spec, notes = suited_inputs(folder, modality, device, inputs, scan)
    sample_set = load_folder(folder, modality, labels, spec, _progress(progress, "decoding", "files"), scan=scan)
    return Samples(folder, modality, spec, sample_set, notes)


def train(samples: Samples | str | Path, task: str | None = None, out: str | Path | None = None, *,
          minutes: float | None = None, steps: int | None = None, backbone: str | None = None,
          device: str = "auto", control: Control | None = None, progress: Progress | bool | None = None,
          callbacks: list[Callable] | None = None, **settings) -> Run:
    """Pretrain on `samples` (or a folder) with `task` (default: the folder's recommended recipe).

    `minutes` and `steps` bound the run; `settings` are training settings (batch_size, learning_rate, epochs,
    seed, ...) or the task's own (mask_ratio, temperature, ...), told apart by name. `out`: the run folder
    (default runs/<task>-<time> under the current folder). `callbacks` receive the trainer's typed events
    (core/training/events.py); `progress(step, total_steps)` follows the steps (total 0 under a time budget).
    Returns the Run; raises TrainingError when training fails (the run keeps its last checkpoint).
    """
    from sslstudio.core.training.events import StepMetrics, TrainingFailed
    from sslstudio.core.training.session import TrainRequest
    from sslstudio.core.training.session import train as run_training

    _check_train_args(samples, task, out, backbone, device, control, progress, callbacks)
    if not isinstance(samples, Samples):
        samples = open_folder(samples)
    train_settings = {name: value for name, value in settings.items() if name in TrainConfig.kinds()}
    task_args = {name: value for name, value in settings.items() if name not in train_settings}
    if minutes is not None:
        train_settings["max_minutes"] = minutes
    if steps is not None:
        train_settings["max_steps"] = steps
    out = Path(out) if out else Path("runs") / f"{task or 'recipe'}-{time.strftime('%Y%m%d-%H%M%S')}"
    request = TrainRequest(samples.folder, out, task, task_args, backbone, asdict(samples.spec), train_settings,
                           device)
    request.check()
    report = _progress(progress, "training", "steps")
    listeners = list(callbacks or [])
    if report is not None:
        listeners.append(lambda event: isinstance(event, StepMetrics) and report(event.step, event.total_steps or 0))
    result = run_training(request, listeners, control)
    if isinstance(result, TrainingFailed):
        raise TrainingError(f"training failed at step {result.step}: {result.message}", result)
    return Run(out, result=result)


def open_run(path: str | Path, checkpoint: str | Path | None = None) -> Run:
    """A run folder made by the app, the CLI, torchrun or `train` (or a shipped reference run)."""
    from sslstudio.core.training.run_dir import RunDir

    path = _path_arg(path, "path")
    RunDir(path).read_config()  # raises, in words, when it is not a run folder
    return Run(Path(path), str(checkpoint) if checkpoint else None)


@dataclass
class ProbeReport:
    """A few-label probe: accuracy on held-out samples, and the same draw on both baselines."""

    accuracy: float
    method: str
    per_class: int
    n_train: int
    n_test: int
    classes: list[str]
    baselines: dict[str, float]  # random_init: the same network untrained; raw: the inputs themselves
    seed: int
    note: str = ""  # what was drawn or reduced ("" when nothing): past max_samples labelled samples, a draw

    def gain(self) -> float:
        """Points over the stronger baseline (negative: pretraining lost to it)."""
        return self.accuracy - max(self.baselines.values(), default=0.0)


@dataclass
class ExportReport:
    path: Path
    format: str
    checkpoint: str
    classes: list[str] | None  # the probe head's classes, when labels were given
    parity: dict | None  # the automatic check against the app's own outputs (None for a plain state_dict)


@dataclass
class Run:
    """A trained run folder: its checkpoints, settings and metrics. `result` says how training ended when it
    was trained by `train` in this session."""

    path: Path
    checkpoint: str | None = None  # a kept checkpoint file; None for the run's last
    result: object = None  # core.training.events.TrainingFinished

    @cached_property
    def config(self) -> dict:
        """The run's config.json, read once: task, settings, input spec, data folder."""
        from sslstudio.core.training.run_dir import RunDir

        return RunDir(self.path).read_config()

    @property
    def task(self) -> str:
        return self.config["task"]

    @property
    def modality(self) -> str:
        return self.config["modality"]

    def metrics(self) -> list[dict]:
        """Every logged record (loss, learning rate, speed, health), as metrics.jsonl holds them."""
        from sslstudio.core.training.run_dir import RunDir

        return RunDir(self.path).read_metrics()

    def embed(self, samples: Samples | str | Path, device: str = "auto",
              progress: Progress | bool | None = None) -> np.ndarray:
        """(N, D) float32 embeddings, row i for `samples.ids[i]`; cached in the run per checkpoint, as the app's
        Embeddings page caches them. A folder is decoded as the run saw its training data."""
        from sslstudio.core.embeddings.cache import embed_folder

        _samples_arg(samples, "samples")
        _progress_arg(progress)
        folder = samples.folder if isinstance(samples, Samples) else Path(samples)
        reuse = samples.sample_set if isinstance(samples, Samples) and samples.spec == self._spec() else None
        decoded, embedded = embed_folder(self.path, folder, self.checkpoint, device,
                                         progress=_progress(progress, "embedding", "samples"), samples=reuse)
        if not isinstance(samples, Samples):
            return embedded.vectors
        row = {sample_id: i for i, sample_id in enumerate(decoded.ids)}
        missing = [sample_id for sample_id in samples.ids if sample_id not in row]
        if missing:
            raise UserError(f"{len(missing)} samples cannot be read at the run's input settings (for example "
                            f"{missing[0]}); embed the folder itself to get every usable one")
        return embedded.vectors[[row[sample_id] for sample_id in samples.ids]]

    def probe(self, labelled: Samples | str | Path, per_class: int = 10, method: str = "linear", seed: int = 0,
              baselines: bool = True, device: str = "auto", max_samples: int = MAX_SAMPLES) -> ProbeReport:
        """Fit a probe on `per_class` labels per class of `labelled` (class folders, or a path,label CSV) and
        score it on the rest, beside the untrained network and the raw inputs on the same draw."""
        from sslstudio.core.evaluation.probe import probe

        _samples_arg(labelled, "labelled", "a folder or CSV path")
        _settings_arg(ProbeSettings, per_class=per_class, method=method, seed=seed, baselines=baselines,
                      max_samples=max_samples)
        report = probe(self._loaded(), self._labelled(labelled), per_class, method, seed, baselines, device,
                       max_samples)
        return ProbeReport(report["accuracy"], report["method"], report["per_class"], report["n_train"],
                           report["n_test"], report["classes"], report.get("baselines", {}), report["seed"],
                           report["note"])

    def export(self, format: str, path: str | Path, labelled: Samples | str | Path | None = None,
               per_class: int = 0) -> ExportReport:
        """Write the model as TorchScript or ONNX (with its preprocessing, and with a linear probe head when
        `labelled` is given), checked against the app's own outputs; or the backbone's state_dict."""
        from sslstudio.core.data.dataset import load_folder
        from sslstudio.core.export import export_with_probe

        settings = _settings_arg(ExportSettings, format=format, per_class=per_class)
        check_writable(_path_arg(path, "path"))
        if labelled is not None:
            _samples_arg(labelled, "labelled", "a folder or CSV path")
        run = self._loaded()
        if labelled is not None:
            samples = self._labelled(labelled)
            labels = np.array([label or "" for label in samples.labels])
        else:
            samples = load_folder(self.config["data"]["folder"], run.modality, labels="none", spec=run.pipeline.spec)
            labels = None
        parity, head = export_with_probe(run, path, settings, samples, labels)
        return ExportReport(Path(path), settings.format, run.checkpoint.name if run.checkpoint else "",
                            head.classes if head else None, parity.to_dict() if parity else None)

    def _loaded(self):
        from sslstudio.core.training.session import load_run

        return load_run(self.path, self.checkpoint)

    def _spec(self) -> InputSpec:
        return InputSpec.from_mapping(self.config["spec"])

    def _labelled(self, labelled: Samples | str | Path):
        from sslstudio.core.data.labels import load_labelled

        source = labelled.folder if isinstance(labelled, Samples) else labelled
        return load_labelled(source, self.modality, self._spec())


def _progress(progress: Progress | bool | None, label: str, unit: str) -> Progress | None:
    """A Progress callable from what the caller gave: theirs, a bar for True (a widget in Jupyter), or none."""
    if progress is True:
        from sslstudio.cli.progress import ProgressReport  # the command line's bar, the same in a notebook

        return ProgressReport(label, unit, bar=True)
    return progress or None


# ------------------------------------------------------------------ argument checks
LABEL_SOURCES = ("auto", "folders", "none")


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _path_arg(value, name: str) -> Path:
    if isinstance(value, (str, os.PathLike)) and os.fspath(value):
        return Path(value)
    raise UserError(f"{name} must be a path (a str or pathlib.Path), not {_shown(value)}")


def _samples_arg(value, name: str, paths: str = "a folder path") -> None:
    if not isinstance(value, Samples) and not (isinstance(value, (str, os.PathLike)) and os.fspath(value)):
        raise UserError(f"{name} must be the Samples of open_folder, or {paths}, not {_shown(value)}")


def _choice_arg(value, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UserError(f"{name} must be one of {', '.join(map(repr, choices))}, not {_shown(value)}")


def _name_arg(value, name: str) -> None:
    if value is not None and not isinstance(value, str):
        raise UserError(f"{name} must be a name (a str) or None, not {_shown(value)}")


def _progress_arg(progress) -> None:
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise UserError(f"progress must be True, False, None or a callable progress(done, total), not "
                        f"{_shown(progress)}")


def _settings_arg(settings: type, **values):
    """The settings checked by their schema, as the CLI checks its options: a wrong type or range is one line."""
    try:
        return settings.from_mapping(values)
    except (TypeError, ValueError) as exc:
        raise UserError(str(exc)) from None


def _check_train_args(samples, task, out, backbone, device, control, progress, callbacks) -> None:
    _samples_arg(samples, "samples")
    if out is not None:
        _path_arg(out, "out")
    for name, value in (("task", task), ("backbone", backbone), ("device", device)):
        _name_arg(value, name)
    if control is not None and not isinstance(control, Control):
        raise UserError(f"control must be a sslstudio.Control or None, not {_shown(control)}")
    _progress_arg(progress)
    if callbacks is not None and (not isinstance(callbacks, (list, tuple)) or not all(map(callable, callbacks))):
        raise UserError(f"callbacks must be a list of callables, each taking one event, not {_shown(callbacks)}")

"""A finished run told again, for a talk: its logged steps in order, and what the model made of fixed samples
at each kept checkpoint. The workbench's presenter mode plays it at a chosen speed (gui/presenter.py); nothing
here needs a GPU or waits for training.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sslstudio.core.errors import UserError
from sslstudio.core.progress import Progress
from sslstudio.core.training.events import events_from_record
from sslstudio.core.training.run_dir import RunDir

LIVE_SAMPLES = 4  # as many as the Train page shows while a run trains


@dataclass
class RunStory:
    """What a replay shows: each logged record as the trainer's events, by step, and the checkpoints' steps."""

    run: Path
    steps: list[int]  # the step of each record, ascending
    events: list[list]  # the events of each record (StepMetrics, and HealthMetrics where it was measured)
    checkpoints: list[tuple[int, Path | None]] = field(default_factory=list)  # (step, file); None: the last

    @property
    def last_step(self) -> int:
        return self.steps[-1] if self.steps else 0

    def events_between(self, after: int, upto: int) -> list:
        """The events of the records logged after step `after`, up to and including step `upto`."""
        return [event for step, events in zip(self.steps, self.events) if after < step <= upto for event in events]


def read_story(run_path: str | Path) -> RunStory:
    run_dir = RunDir(run_path)
    run_dir.read_config()  # a plain error when it is not a run folder
    records = sorted((r for r in run_dir.read_metrics() if "step" in r), key=lambda r: r["step"])
    if not records:
        raise UserError(f"{run_path} has no logged steps to replay; train it for a few steps first")
    checkpoints: list[tuple[int, Path | None]] = [(step, path) for step, path in run_dir.checkpoints()]
    if run_dir.last_checkpoint.is_file():
        checkpoints.append((records[-1]["step"], None))
    return RunStory(Path(run_path), [r["step"] for r in records], [events_from_record(r) for r in records],
                    checkpoints)


def live_outputs_by_checkpoint(story: RunStory, progress: Progress | None = None) -> list[tuple[int, list]]:
    """(step, the task's outputs on the first samples of the run's folder) for each checkpoint, oldest first:
    what the Train page's live outputs showed as training passed it. Those few samples are decoded once."""
    import torch

    from sslstudio.core.data.dataset import load_files
    from sslstudio.core.data.scan import scan_folder
    from sslstudio.core.training.session import load_task_model

    shown = []
    samples = None
    for done, (step, checkpoint) in enumerate(story.checkpoints):
        task, model, config = load_task_model(story.run, checkpoint=checkpoint)
        if samples is None:
            folder, modality = Path(config["data"]["folder"]), config["modality"]
            first = scan_folder(folder).files[modality][:LIVE_SAMPLES]
            samples = load_files(folder, first, modality, task.pipeline.spec)
        with torch.no_grad():
            shown.append((step, task.preview_samples(samples, range(min(LIVE_SAMPLES, len(samples))), 0, model)))
        if progress is not None:
            progress(done + 1, len(story.checkpoints))
    return shown

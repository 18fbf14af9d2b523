"""Build a task, model and raw training batch from a folder, as a run would."""
import numpy as np

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.models.backbones import build_backbone
from sslstudio.core.models.inputs import Pipeline
from sslstudio.core.tasks.registry import get_task
from sslstudio.core.training.trainer import TaskModel


def build(folder, task_name, spec=None, **task_args):
    """(task, model, every sample's raw training input in one tensor): tiny sets fit in memory."""
    task, model, samples = build_from_store(folder, task_name, spec, **task_args)
    return task, model, task.pipeline.training_raw(samples, np.arange(len(samples)), seed=0)


def build_from_store(folder, task_name, spec=None, **task_args):
    """(task, model, the SampleSet read from the folder's store)."""
    task_cls = get_task(task_name)
    samples = load_folder(folder, task_cls.modality, spec=spec) if spec else load_folder(folder, task_cls.modality)
    pipeline = Pipeline.fit(samples)
    task = task_cls(task_cls.Args.from_mapping(task_args), pipeline)
    backbone = build_backbone(task_cls.modality, (task_cls.backbones or [None])[0], pipeline.backbone_context())
    return task, TaskModel(task, backbone, task.build_heads(backbone)), samples

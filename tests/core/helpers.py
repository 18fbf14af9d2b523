"""Build a task, model and raw tensor from a folder, as a run would."""
from sslstudio.core.data.dataset import load_folder
from sslstudio.core.models.backbones import build_backbone
from sslstudio.core.models.inputs import Pipeline
from sslstudio.core.tasks.registry import get_task
from sslstudio.core.training.trainer import TaskModel


def build(folder, task_name, spec=None, **task_args):
    task_cls = get_task(task_name)
    samples = load_folder(folder, task_cls.modality, spec=spec) if spec else load_folder(folder, task_cls.modality)
    pipeline = Pipeline.fit(samples)
    task = task_cls(task_cls.Args.from_mapping(task_args), pipeline)
    backbone = build_backbone(task_cls.modality, None, pipeline.backbone_context())
    return task, TaskModel(task, backbone, task.build_heads(backbone)), pipeline.raw(samples)

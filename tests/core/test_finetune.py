"""Full fine-tuning through the pretraining Trainer: it learns the labels, at a slower backbone rate."""
import numpy as np
import torch

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.labels import few_shot_split
from sslstudio.core.evaluation import finetune as finetune_module
from sslstudio.core.evaluation.finetune import BACKBONE_LR_SCALE, finetune_predict
from sslstudio.core.evaluation.probe import probe
from sslstudio.core.training.session import TrainRequest, load_run, train


def test_finetuning_learns_the_classes_and_leaves_the_run_untouched(tiny_images, tmp_path, monkeypatch):
    train(TrainRequest(tiny_images, tmp_path / "run", "rotation", train_settings={"max_steps": 2, "batch_size": 8}))
    run = load_run(tmp_path / "run")
    samples = load_folder(tiny_images, spec=run.pipeline.spec)
    labels = np.array(samples.labels)
    rows_train, rows_test = few_shot_split(labels, 8, seed=0)
    before = {k: v.clone() for k, v in run.backbone.state_dict().items()}
    seen_groups = []
    real_adamw = torch.optim.AdamW

    def recording_adamw(groups, **kwargs):
        optimizer = real_adamw(groups, **kwargs)
        seen_groups.append(optimizer.param_groups)
        return optimizer

    monkeypatch.setattr(torch.optim, "AdamW", recording_adamw)
    predicted = finetune_predict(run, samples, rows_train, labels[rows_train], rows_test, seed=0, steps=60,
                                 device="cpu")
    assert predicted.shape == (len(rows_test),) and set(predicted) <= set(labels)
    assert (predicted == labels[rows_test]).mean() > 0.5  # four classes: chance is 0.25
    [groups] = seen_groups
    assert [g["lr_scale"] for g in groups] == [BACKBONE_LR_SCALE, 1.0]
    assert groups[0]["lr"] == groups[1]["lr"] * BACKBONE_LR_SCALE  # the schedule keeps the ratio
    assert all(torch.equal(before[k], v) for k, v in run.backbone.state_dict().items())  # a copy was tuned
    assert finetune_module.FineTuneTask.name == "finetune"


def test_probe_with_finetuning_and_its_baselines(tiny_images, tmp_path):
    train(TrainRequest(tiny_images, tmp_path / "run", "rotation", train_settings={"max_steps": 2, "batch_size": 8}))
    run = load_run(tmp_path / "run")
    samples = load_folder(tiny_images, spec=run.pipeline.spec)
    result = probe(run, samples, per_class=4, method="finetune", baselines=True, device="cpu")
    assert result["method"] == "finetune" and 0 <= result["accuracy"] <= 1
    assert set(result["baselines"]) == {"random_init", "raw"}

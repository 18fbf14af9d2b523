"""Exports of runs on folders full of near-duplicates pass; a model that really differs still fails.

Bursts of photos and animation frames make nearest neighbours (and near-equal logits) ties that a
last-bit rounding difference flips. Such a flip is a near-tie, not a disagreement."""
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from sslstudio.core import export as export_module
from sslstudio.core.data.dataset import load_folder
from sslstudio.core.embeddings.extract import compute_embeddings
from sslstudio.core.evaluation.classifiers import fit_linear
from sslstudio.core.export import ExportMismatch, ProbeHead, export, top1_agreement
from sslstudio.core.training.session import TrainRequest, load_run, train


@pytest.fixture
def duplicated_images(tiny_images):
    """Each of the first 4 pictures of every class twice more: once exactly, once with one pixel changed."""
    for class_dir in sorted(p for p in tiny_images.iterdir() if p.is_dir()):
        for original in sorted(class_dir.glob("*.png"))[:4]:
            shutil.copyfile(original, class_dir / f"{original.stem}-copy.png")
            pixels = np.array(Image.open(original))
            pixels.flat[0] = pixels.flat[0] + 1 if pixels.flat[0] < 255 else 254
            Image.fromarray(pixels).save(class_dir / f"{original.stem}-near.png")
    return tiny_images


@pytest.fixture
def duplicated_run(duplicated_images, tmp_path):
    train(TrainRequest(duplicated_images, tmp_path / "run", "rotation",
                       train_settings={"max_steps": 2, "batch_size": 8}))
    run = load_run(tmp_path / "run")
    samples = load_folder(duplicated_images, spec=run.pipeline.spec)
    return run, samples, run.pipeline.export_raw(samples, range(len(samples)))


def head_for(run, samples):
    return ProbeHead.from_sklearn(fit_linear(compute_embeddings(run, samples), np.array(samples.labels)))


def test_top1_agreement_counts_ties_within_the_difference_and_nothing_more():
    reference = np.array([[1.0, 1.0 + 1e-7, 0.0], [3.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
    rounded = reference + np.array([[2e-7, 0, 0], [0, 0, 0], [0, 0, 0]])  # flips row 0's near-tie only
    assert top1_agreement(reference, rounded, tolerance=1e-4) == (1.0, 1)
    assert top1_agreement(reference, rounded, tolerance=1e-8) == (pytest.approx(2 / 3), 0)  # beyond tolerance
    wrong = rounded.copy()
    wrong[1] = [0.0, 1.0, 3.0]  # a gap of 3 is no tie, however large the difference measured
    assert top1_agreement(reference, wrong, tolerance=1e-4) == (pytest.approx(2 / 3), 1)


@pytest.mark.parametrize("with_head", [False, True])
def test_rounding_level_differences_on_duplicates_are_near_ties(duplicated_run, tmp_path, monkeypatch, with_head):
    """The failure as users met it: a faithful export whose last bits differ flips duplicates' neighbours."""
    run, samples, raw = duplicated_run
    honest = export_module.run_exported
    noise = np.random.default_rng(0)

    def rounded_differently(path, fmt, inputs):
        return [o * (1 + noise.uniform(-2e-7, 2e-7, o.shape)).astype(np.float32) for o in honest(path, fmt, inputs)]

    monkeypatch.setattr(export_module, "run_exported", rounded_differently)
    head = head_for(run, samples) if with_head else None
    report = export(run, tmp_path / "model.pt", "torchscript", raw, head)
    assert report.passed and report.top1_agreement == 1.0
    if not with_head:  # exact copies are exact ties: the noise flips some of them
        assert report.near_ties > 0 and "near-tie" in report.agreement_text()


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
@pytest.mark.parametrize("with_head", [False, True])
def test_exports_of_a_folder_with_duplicates_pass(duplicated_run, tmp_path, fmt, with_head):
    run, samples, raw = duplicated_run
    report = export(run, tmp_path / f"model.{fmt}", fmt, raw, head_for(run, samples) if with_head else None)
    assert report.passed and report.top1_agreement == 1.0 and report.max_abs_diff <= 1e-4


def test_an_export_whose_weights_differ_by_1e_3_still_fails(duplicated_run, tmp_path, monkeypatch):
    run, samples, raw = duplicated_run
    write_sidecars = export_module._write_sidecars

    def then_perturb_the_app(run_, out, head):  # the file keeps the trained weights; the app's move by 1e-3
        write_sidecars(run_, out, head)
        with torch.no_grad():
            for parameter in run_.backbone.parameters():
                parameter.add_(1e-3)

    monkeypatch.setattr(export_module, "_write_sidecars", then_perturb_the_app)
    with pytest.raises(ExportMismatch, match="disagrees"):
        export(run, tmp_path / "model.onnx", "onnx", raw)
    assert not (tmp_path / "model.onnx").exists()

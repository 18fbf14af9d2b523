"""MAE with a Vision Transformer: the encoder gets the visible patches only, the loss counts the hidden
ones, the live output is the reconstruction, and the ViT exports like any backbone."""
import numpy as np
import pytest
import torch

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.export import export
from sslstudio.core.models.vit import ViT, patch_size_for
from sslstudio.core.tasks.base import make_generator
from sslstudio.core.training.session import TrainRequest, load_run, train

from .helpers import build


@pytest.mark.parametrize("side,patch", [(32, 4), (64, 8), (100, 12), (224, 16)])
def test_patches_follow_the_input_size(side, patch):
    assert patch_size_for(side) == patch
    vit = ViT(3, patch, dim=32, depth=1, heads=2)
    rows = -(-side // patch)
    assert vit(torch.zeros(2, 3, side, side)).shape == (2, 32)
    assert vit.grid(torch.zeros(1, 3, side, side)) == (rows, rows)


def test_the_encoder_sees_a_quarter_and_the_loss_counts_only_hidden_patches(tiny_images):
    task, model, raw = build(tiny_images, "mae")
    batch = task.make_batch(raw[:4], make_generator(0))
    keep, hidden = batch.params["keep"], batch.params["hidden"]
    assert keep.shape == (4, 16) and hidden.sum(1).tolist() == [48] * 4  # 8 x 8 patches of 4 px, 75 % hidden
    assert not hidden.gather(1, keep).any()
    visible = model.backbone.encode(batch.inputs, keep)
    assert visible.shape == (4, 16, model.backbone.embed_dim)
    # Hidden pixels are blank in the input; changing the target there changes the loss, elsewhere it does not.
    loss = task.forward(model.backbone, model.heads, batch).loss
    patch = task.patch
    pixels = hidden.reshape(4, 1, 8, 8).repeat_interleave(patch, 2).repeat_interleave(patch, 3).expand(-1, 3, -1, -1)
    assert (batch.inputs[pixels] == 0).all()
    changed_visible = batch.targets.clone()
    changed_visible[~pixels] += 1.0  # a uniform shift: the per-patch normalisation would remove it anyway...
    changed_visible[~pixels] *= 2.0  # ...so scale as well
    batch_visible = type(batch)(batch.inputs, changed_visible, batch.params)
    assert task.forward(model.backbone, model.heads, batch_visible).loss.item() == pytest.approx(loss.item(), rel=1e-5)
    noisy = batch.targets + torch.randn_like(batch.targets) * pixels
    assert task.forward(model.backbone, model.heads, type(batch)(batch.inputs, noisy, batch.params)).loss != loss


def test_live_output_is_the_reconstruction_with_the_visible_patches_as_given(tiny_images):
    task, model, raw = build(tiny_images, "mae")
    [sample] = task.live_preview(model.backbone, model.heads, raw[:1], seed=3)
    shown, target, rebuilt = sample.items
    assert rebuilt.title == "model's reconstruction" and rebuilt.data.shape == target.data.shape
    visible = ~shown.mask
    assert np.abs(rebuilt.data[visible].astype(int) - target.data[visible].astype(int)).max() <= 1


def test_a_trained_vit_exports_and_runs_outside_the_app(tiny_images, tmp_path):
    finished = train(TrainRequest(tiny_images, tmp_path / "run", "mae", train_settings={"max_steps": 2,
                                                                                        "batch_size": 8}))
    assert finished.step == 2
    run = load_run(tmp_path / "run")
    assert run.config["backbone"] == "vit_tiny"
    raw = run.pipeline.export_raw(load_folder(tiny_images), range(8))
    for fmt in ("torchscript", "onnx"):
        report = export(run, tmp_path / f"model.{fmt}", fmt, raw)
        assert report.passed, report


def test_audio_mae_encodes_spectrogram_patches_and_exports_with_its_log_mel(tiny_audio, tmp_path):
    task, model, raw = build(tiny_audio, "audio_mae")
    batch = task.make_batch(raw[:2], make_generator(0))
    mels, frames = task.pipeline.preprocess(raw[:1]).shape[-2:]
    rows, columns = -(-mels // 8), -(-frames // 8)
    assert batch.inputs.shape[-2:] == (rows * 8, columns * 8)  # padded up to whole patches
    assert batch.params["hidden"].sum(1).tolist() == [round(0.75 * rows * columns)] * 2
    [sample] = task.live_preview(model.backbone, model.heads, raw[:1], seed=1)
    shown, target, clip, rebuilt = sample.items
    assert rebuilt.kind == "spectrogram" and rebuilt.data.shape == target.data.shape
    np.testing.assert_allclose(rebuilt.data[~shown.mask], target.data[~shown.mask], atol=1e-4)
    finished = train(TrainRequest(tiny_audio, tmp_path / "run", "audio_mae",
                                  train_settings={"max_steps": 2, "batch_size": 8}))
    assert finished.step == 2
    run = load_run(tmp_path / "run")
    waves = run.pipeline.eval_raw(load_folder(tiny_audio), range(6))
    assert export(run, tmp_path / "audio.onnx", "onnx", waves).passed

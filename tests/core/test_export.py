"""Exports carry their preprocessing, reproduce the app's outputs, and fail loudly when they do not."""
import json

import numpy as np
import pytest
import torch

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.embeddings.extract import compute_embeddings
from sslstudio.core.errors import UserError
from sslstudio.core.evaluation.classifiers import fit_linear
from sslstudio.core.export import ExportMismatch, ProbeHead, export, in_app_outputs, run_exported
from sslstudio.core.training.session import TrainRequest, load_run, train

SETTINGS = {"max_steps": 2, "batch_size": 8}


def trained(folder, tmp_path, task, **extra):
    run = tmp_path / f"run-{task}"
    train(TrainRequest(folder, run, task, train_settings=SETTINGS, **extra))
    return load_run(run)


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_image_export_with_a_probe_head_matches_the_app(tiny_images, tmp_path, fmt):
    run = trained(tiny_images, tmp_path, "rotation")
    samples = load_folder(tiny_images)
    labels = np.array(samples.labels)
    head = ProbeHead.from_sklearn(fit_linear(compute_embeddings(run, samples), labels))
    raw = run.pipeline.export_raw(samples, range(len(samples)))
    report = export(run, tmp_path / f"model.{fmt}", fmt, raw, head)
    assert report.passed and report.samples == len(samples)
    assert report.max_abs_diff <= 1e-4 and report.top1_agreement == 1.0
    assert report.logits_max_abs_diff <= report.logits_allowed
    embedding, logits = run_exported(tmp_path / f"model.{fmt}", fmt, raw)
    assert embedding.shape == (len(samples), run.backbone.embed_dim) and logits.shape == (len(samples), 4)
    # The folded head predicts what the scikit-learn probe predicts.
    probe = fit_linear(compute_embeddings(run, samples), labels)
    assert (np.array(head.classes)[logits.argmax(1)] == probe.predict(embedding)).mean() == 1.0
    info = json.loads((tmp_path / f"model.{fmt}.json").read_text())
    assert info["classes"] == sorted(set(labels)) and info["outputs"] == ["embedding", "logits"]


def test_the_exported_image_model_resizes_inside(tiny_images, tmp_path):
    run = trained(tiny_images, tmp_path, "rotation")
    raw = run.pipeline.export_raw(load_folder(tiny_images), range(6))  # whole pictures at the stored side
    export(run, tmp_path / "model.pt", "torchscript", raw)
    bigger = torch.nn.functional.interpolate(raw.float(), scale_factor=2, mode="nearest").round().byte()
    [embedding] = run_exported(tmp_path / "model.pt", "torchscript", bigger)  # 2x the pixels, same content
    [expected] = in_app_outputs(run, raw, None)
    assert embedding.shape == expected.shape
    cosine = (embedding * expected).sum(1) / np.linalg.norm(embedding, axis=1) / np.linalg.norm(expected, axis=1)
    assert cosine.min() > 0.95


def test_audio_and_text_export_with_their_preprocessing(tiny_audio, tiny_text, tmp_path):
    audio = trained(tiny_audio, tmp_path, "masked_spectrogram")
    waves = audio.pipeline.eval_raw(load_folder(tiny_audio), range(8))
    assert waves.dtype == torch.float32 and waves.dim() == 2  # raw waveforms in: log-mel happens inside
    assert export(audio, tmp_path / "audio.onnx", "onnx", waves).passed
    text = trained(tiny_text, tmp_path, "mlm")
    ids = text.pipeline.eval_raw(load_folder(tiny_text), range(8))
    assert export(text, tmp_path / "text.pt", "torchscript", ids).passed
    tokenizer = (tmp_path / "tokenizer.json").read_text()
    assert json.loads(tokenizer)["model"]["vocab"] and tokenizer == text.pipeline.tokenizer.to_str()


def test_a_disagreeing_export_fails_and_keeps_nothing(tiny_images, tmp_path, monkeypatch):
    run = trained(tiny_images, tmp_path, "rotation")
    raw = run.pipeline.export_raw(load_folder(tiny_images), range(8))
    from sslstudio.core import export as export_module

    honest = export_module.run_exported
    monkeypatch.setattr(export_module, "run_exported",
                        lambda path, fmt, inputs: [o + 1e-3 for o in honest(path, fmt, inputs)])
    with pytest.raises(ExportMismatch, match="disagrees"):
        export(run, tmp_path / "model.pt", "torchscript", raw)
    assert not (tmp_path / "model.pt").exists()
    with pytest.raises(UserError, match="unknown export format"):
        export(run, tmp_path / "model.x", "tflite", raw)


def test_a_resnet18_state_dict_loads_into_torchvision(tiny_images, tmp_path):
    import torchvision

    run = trained(tiny_images, tmp_path, "rotation", backbone="resnet18")
    export(run, tmp_path / "backbone.pt", "state_dict", torch.empty(0))
    # The README's one-liner, then the CIFAR stem the run was trained with:
    net = torchvision.models.resnet18()
    net.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    net.maxpool = net.fc = torch.nn.Identity()
    net.load_state_dict(torch.load(tmp_path / "backbone.pt"))
    raw = run.pipeline.eval_raw(load_folder(tiny_images), range(4))
    with torch.no_grad():
        mine = net.eval()(run.pipeline.preprocess(raw))
    np.testing.assert_allclose(mine.numpy(), in_app_outputs(run, raw, None)[0], atol=1e-5)


def test_onnx_exports_from_threads_that_have_ended_do_not_crash_the_process(tiny_images, tmp_path):
    """The workbench exports as a job on a new thread each time; the second export used to end the process."""
    import threading

    run = trained(tiny_images, tmp_path, "rotation")
    raw = run.pipeline.export_raw(load_folder(tiny_images), range(8))
    passed = []
    for name in ("first", "second"):
        job = threading.Thread(target=lambda name=name: passed.append(
            export(run, tmp_path / f"{name}.onnx", "onnx", raw).passed))
        job.start()
        job.join()
    assert passed == [True, True]

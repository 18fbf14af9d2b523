"""The Python API on real folders: open, train, embed, probe and export, a stop from another thread, and the
example script of docs/ run as a user would run it."""
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import sslstudio
from sslstudio.core.training.events import StepMetrics

ROOT = Path(__file__).resolve().parent.parent


def test_importing_sslstudio_stays_light():
    done = subprocess.run([sys.executable, "-c", "import sys, sslstudio; sslstudio.open_folder; "
                           "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_open_train_embed_probe_and_export(tiny_images, tmp_path):
    (tiny_images / "0_t-shirt_top" / "empty.png").write_bytes(b"")
    samples = sslstudio.open_folder(tiny_images, image_size=28)
    assert (samples.modality, len(samples), samples.spec.image_size) == ("image", 48, 28)
    assert samples.classes == ["0_t-shirt_top", "1_trouser", "2_pullover", "3_dress"]
    assert samples.skipped == [("0_t-shirt_top/empty.png", "empty file")]

    seen = []
    run = sslstudio.train(samples, task="rotation", out=tmp_path / "run", steps=4, batch_size=16, shift=2,
                          progress=lambda done, total: seen.append((done, total)))
    assert run.task == "rotation" and run.result.step == 4 and run.config["task_args"]["shift"] == 2
    assert seen and seen[-1][0] == 4
    assert [record["step"] for record in run.metrics() if "loss" in record][-1] == 4

    vectors = run.embed(samples)
    assert vectors.dtype == np.float32 and vectors.shape[0] == 48 and np.isfinite(vectors).all()
    folder_vectors = run.embed(tiny_images)  # the same rows, decoded as the run saw its data
    assert np.allclose(np.sort(vectors, axis=0), np.sort(folder_vectors, axis=0), atol=1e-5)

    report = run.probe(samples, per_class=3)
    assert 0 <= report.accuracy <= 1 and set(report.baselines) == {"random_init", "raw"}
    assert (report.per_class, report.n_train, report.classes) == (3, 12, samples.classes)
    assert report.gain() == pytest.approx(report.accuracy - max(report.baselines.values()))

    exported = run.export("torchscript", tmp_path / "model.pt", labelled=tiny_images)
    assert exported.path.is_file() and exported.classes == samples.classes
    assert exported.parity["top1_agreement"] == 1.0

    reopened = sslstudio.open_run(tmp_path / "run")
    assert np.array_equal(reopened.embed(samples), vectors)  # from the run's cache, as the app reads it


def test_training_stops_from_another_thread_and_keeps_its_checkpoint(tiny_images, tmp_path):
    control = sslstudio.Control()
    started = threading.Event()

    def on_event(event):
        if isinstance(event, StepMetrics):
            started.set()

    stopper = threading.Thread(target=lambda: started.wait(120) and control.cancel())
    stopper.start()
    run = sslstudio.train(tiny_images, task="rotation", out=tmp_path / "run", minutes=10, batch_size=8,
                          log_every=1, control=control, callbacks=[on_event])
    stopper.join()
    assert "cancel" in run.result.reason and run.result.seconds < 120
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()


def test_mistakes_are_plain_errors(tiny_images, tmp_path):
    with pytest.raises(sslstudio.UserError, match="unknown setting|no_such_setting"):
        sslstudio.train(tiny_images, task="rotation", out=tmp_path / "r", no_such_setting=1)
    with pytest.raises(sslstudio.UserError, match="not a run folder"):
        sslstudio.open_run(tmp_path)
    with pytest.raises(sslstudio.UserError, match="no usable audio files"):
        sslstudio.open_folder(tiny_images, modality="audio")


def test_the_example_script_runs(tiny_images, tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "api_example.py"), str(tiny_images),
                           "--steps", "3", "--out", str(tmp_path)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "probe accuracy" in done.stdout and (tmp_path / "model.onnx").is_file()


def test_wrong_arguments_are_plain_errors_before_any_work(tiny_images, tmp_path):
    out = tmp_path / "run"
    run = sslstudio.Run(tmp_path / "never-trained")  # every check below comes before the run is read
    mistakes = {
        lambda: sslstudio.open_folder(123): "folder must be a path (a str or pathlib.Path), not 123",
        lambda: sslstudio.open_folder(None): "folder must be a path (a str or pathlib.Path), not None",
        lambda: sslstudio.open_folder(tiny_images, labels="xyz"): "labels must be one of 'auto', 'folders', 'none'",
        lambda: sslstudio.open_folder(tiny_images, progress="yes"): "progress must be True, False, None or a call",
        lambda: sslstudio.train(42): "samples must be the Samples of open_folder, or a folder path, not 42",
        lambda: sslstudio.train(tiny_images, "rotation", out=123): "out must be a path (a str or pathlib.Path)",
        lambda: sslstudio.train(tiny_images, "rotation", out, backbone=123): "backbone must be a name",
        lambda: sslstudio.train(tiny_images, "rotation", out, progress="yes"): "progress must be True, False",
        lambda: sslstudio.train(tiny_images, "rotation", out, callbacks=[1]): "callbacks must be a list of callables",
        lambda: sslstudio.train(tiny_images, "rotation", out, callbacks=print): "callbacks must be a list of",
        lambda: sslstudio.train(tiny_images, "rotation", out, control=1): "control must be a sslstudio.Control",
        lambda: sslstudio.open_run(None): "path must be a path (a str or pathlib.Path), not None",
        lambda: run.embed(123): "samples must be the Samples of open_folder, or a folder path, not 123",
        lambda: run.probe(tiny_images, per_class=-1): "setting 'per_class' must be in [0, 1000000]; got -1",
        lambda: run.probe(123): "labelled must be the Samples of open_folder, or a folder or CSV path, not 123",
        lambda: run.export("onnx", tmp_path): "cannot write",
        lambda: run.export("onnx", "/proc/self/no/m.onnx"): "cannot write /proc/self/no/m.onnx: No such file",
        lambda: run.export("xyz", tmp_path / "m.onnx"): "setting 'format' must be one of",
    }
    for call, message in mistakes.items():
        with pytest.raises(sslstudio.UserError) as raised:
            call()
        assert message in str(raised.value) and "\n" not in str(raised.value)
    assert not out.exists()  # progress="yes" was noticed after decoding and training began, leaving a run folder

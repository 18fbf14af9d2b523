"""The command line under a careless or hostile user: odd names, strict terminals, closed pipes, a full
disk, bad outputs and bad numbers each end in one line (or one JSON object), never a traceback."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest
from PIL import Image

from .test_end_to_end import cli


def test_names_that_are_not_utf8_or_hold_control_characters_print_on_a_strict_terminal(tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "fine.png")
    for raw in (b"caf\xe9.png", b"line\nbreak.png", b"\x1b[31mred.png"):
        (folder.joinpath(os.fsdecode(raw))).write_bytes(b"not a picture")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    result = subprocess.run([sys.executable, "-m", "sslstudio", "scan", str(folder)], capture_output=True,
                            text=True, encoding="utf-8", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "skipped caf\\udce9.png:" in result.stdout
    assert "skipped line\\nbreak.png:" in result.stdout and "skipped \\x1b[31mred.png:" in result.stdout
    assert "\x1b" not in result.stdout
    assert sum(line.startswith("  skipped ") for line in result.stdout.splitlines()) == 3  # one line each


def test_a_closed_pipe_ends_quietly():
    process = subprocess.Popen([sys.executable, "-m", "sslstudio", "tasks"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()  # what `| head -1` does
    _, stderr = process.communicate(timeout=120)
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr


def test_with_json_an_error_is_still_one_json_object(tmp_path):
    result = cli("scan", tmp_path / "missing", "--json", expect=2)
    assert json.loads(result.stdout) == {"error": f"folder not found: {tmp_path / 'missing'}"}
    assert result.stderr.startswith("sslstudio: error: folder not found")


def test_check_samples_of_zero_is_a_usage_error(tmp_path):
    result = cli("export", tmp_path, "--format", "onnx", "--out", tmp_path / "m.onnx", "--check-samples", "0",
                 expect=2)
    assert "--check-samples: it must be in [1, 1000000]; got 0" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tests.conftest import copy_subset

    tmp = tmp_path_factory.mktemp("trained")
    folder = copy_subset("image", tmp / "images", classes=3, per_class=8)
    cli("train", folder, "--task", "rotation", "--out", tmp / "run", "--max-steps", 2, "--batch-size", 8)
    return folder, tmp / "run"


def test_an_output_that_cannot_be_written_is_one_line(trained, tmp_path):
    folder, run = trained
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "sub"
    for args in (["embed", run, folder, "--out", out / "e.npz"],
                 ["preview", folder, "--task", "rotation", "--out", out / "s.png"],
                 ["export", run, "--format", "torchscript", "--out", out / "m.pt"],
                 ["train", folder, "--task", "rotation", "--out", out / "run", "--max-steps", 1]):
        result = cli(*args, expect=2)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr  # before any work
        assert "Not a directory" in result.stderr and "a-file" in result.stderr


@pytest.mark.parametrize("option", [["--max-minutes", "nan"], ["--lr", "nan"], ["--weight-decay", "nan"],
                                    ["--checkpoint-minutes", "nan"], ["--lr", "inf"], ["--set", "temperature=nan"]])
def test_nan_and_infinity_are_refused_in_one_line(trained, tmp_path, option):
    folder, _ = trained
    result = cli("train", folder, "--task", "simclr", "--out", tmp_path / "run", "--max-steps", 1, *option, expect=2)
    assert "Traceback" not in result.stderr, result.stderr
    error = result.stderr.splitlines()[-1]  # after argparse's usage lines, as for any other bad option
    assert error.startswith("sslstudio") and "error: " in error and "must be" in error, result.stderr
    assert error.endswith(("got nan", "got inf")), error
    assert not (tmp_path / "run").exists()


def test_init_weights_that_are_not_finite_are_refused_in_one_line(trained, tmp_path):
    import torch

    from sslstudio.core.models.backbones import build_backbone

    folder, _ = trained
    weights = build_backbone("image", "cnn_small", {}).state_dict()
    weights = {name: torch.full_like(t, float("nan")) if t.is_floating_point() else t for name, t in weights.items()}
    torch.save(weights, tmp_path / "nan.pt")
    result = cli("train", folder, "--task", "rotation", "--backbone", "cnn_small", "--init", tmp_path / "nan.pt",
                 "--out", tmp_path / "run", "--max-steps", 2, "--batch-size", 8, expect=2)
    assert result.stderr.endswith(f"sslstudio: error: {tmp_path / 'nan.pt'} holds weights that are not finite "
                                  f"(NaN or infinity)\n"), result.stderr
    assert "Traceback" not in result.stderr and "learning rate" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_two_trainings_into_one_folder_the_second_is_refused(trained, tmp_path):
    folder, _ = trained
    common = ["-m", "sslstudio", "train", str(folder), "--task", "rotation", "--out", str(tmp_path / "run"),
              "--batch-size", "8", "--epochs", "100000"]  # ends only when interrupted: no race with a time budget
    first = subprocess.Popen([sys.executable, *common], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        said = []
        for line in first.stderr:  # the event: this line comes once the first holds the folder's lock
            said.append(line)
            if line.startswith("training rotation on"):
                break
        else:
            pytest.fail("the first training ended before it started: " + "".join(said))
        second = cli(*common[2:], "--task", "jigsaw", expect=2)
        assert "is being written by another training process" in second.stderr
        assert first.poll() is None  # the lock the second met was the first's, held by a live run
    finally:
        first.send_signal(signal.SIGINT)
        _, rest = first.communicate(timeout=120)
    assert first.returncode == 1 and "sslstudio: interrupted" in rest, rest
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["task"] == "rotation"


def test_checkpoint_picks_the_weights_of_embed_probe_and_resume(trained, tmp_path):
    folder, run = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    kept = sorted((copy / "checkpoints").glob("step-*.pt"))[-1]
    (copy / "checkpoints" / "last.pt").write_bytes(b"\x00" * 100)  # damaged beyond reading
    result = cli("embed", copy, folder, "--out", tmp_path / "e.npz", expect=2)
    assert f"pass --checkpoint {kept}" in result.stderr
    cli("embed", copy, folder, "--out", tmp_path / "e.npz", "--checkpoint", kept)
    cli("probe", copy, "--labelled", folder, "--per-class", 2, "--method", "knn", "--checkpoint", kept)
    resumed = json.loads(cli("train", folder, "--out", copy, "--resume", "--checkpoint", kept, "--max-steps", 3,
                             "--json").stdout)
    assert resumed["step"] == 3


def test_resume_refuses_options_that_would_change_the_run_and_names_what_it_changes(trained, tmp_path):
    folder, run = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    config = (copy / "config.json").read_text()
    result = cli("train", folder, "--out", copy, "--resume", "--image-size", 64, "--backbone", "resnet18",
                 "--init", tmp_path / "any.pt", "--batch-size", 4, "--set", "shift=2", "--max-steps", 3, expect=2)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    for named in ("--image-size 64 (the run has 32)", "--backbone resnet18 (the run has cnn_small)", "--init",
                  "--batch-size 4 (the run has 8)", "--set shift=2 (the run has 4)"):
        assert named in result.stderr, result.stderr
    assert (copy / "config.json").read_text() == config
    resumed = cli("train", folder, "--out", copy, "--resume", "--batch-size", 8, "--max-steps", 3, "--lr", 0.001)
    assert "changed on resume: max_steps 3 (was 2), lr 0.001 (was 0.002)" in resumed.stderr, resumed.stderr


def test_a_run_that_does_not_fit_in_memory_is_refused_before_it_starts_and_the_advice_fits(trained, tmp_path):
    folder, _ = trained
    low = {**os.environ, "SSLSTUDIO_MEMORY_AVAILABLE": str(100 << 20)}  # what the machine reports, made low
    command = [sys.executable, "-m", "sslstudio", "train", str(folder), "--task", "rotation", "--out",
               str(tmp_path / "run"), "--max-steps", "1"]
    result = subprocess.run([*command, "--batch-size", "24"], capture_output=True, text=True, env=low, timeout=600)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    error = result.stderr.splitlines()[-1]
    assert re.fullmatch(r"sslstudio: error: this run needs about [\d.]+ MB of memory and 100.0 MB is available for "
                        r"it: lower --batch-size to \d+ or --image-size to \d+", error), error
    assert not (tmp_path / "run").exists()
    advised = re.search(r"--batch-size to (\d+)", error).group(1)
    result = subprocess.run([*command, "--batch-size", advised], capture_output=True, text=True, env=low,
                            timeout=600)
    assert result.returncode == 0 and "memory" not in result.stderr, result.stderr
    needed = float(re.search(r"needs about ([\d.]+) MB", error).group(1))
    barely = {**low, "SSLSTUDIO_MEMORY_AVAILABLE": str(int(needed * 1.1 * (1 << 20)))}
    result = subprocess.run([*command, "--batch-size", "24", "--out", str(tmp_path / "run2")], capture_output=True,
                            text=True, env=barely, timeout=600)
    assert result.returncode == 0 and "warning: this run needs about" in result.stderr, result.stderr
    assert "if it runs out, lower --batch-size to" in result.stderr


needs_namespaces = pytest.mark.skipif(shutil.which("unshare") is None or subprocess.run(
    ["unshare", "-rm", "true"], capture_output=True).returncode != 0, reason="needs unshare -rm to mount a tmpfs")


@needs_namespaces
def test_a_full_disk_while_checkpointing_is_one_line_and_keeps_the_last_good_one(trained, tmp_path):
    folder, run = trained
    size = (run / "checkpoints" / "last.pt").stat().st_size
    disk = tmp_path / "small-disk"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size={int(size * 2.5)} tmpfs {disk} && {sys.executable} -m sslstudio train "
              f"{folder} --task rotation --out {disk}/run --max-steps 5 --batch-size 8 --checkpoint-minutes 0; "
              f"echo exit=$?; ls -a {disk}/run/checkpoints; {sys.executable} -c \"import sys; "
              f"from sslstudio.core.training.session import load_run; print('loads step', load_run(sys.argv[1])"
              f".checkpoint)\" {disk}/run")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert "exit=1" in result.stdout, result.stdout + result.stderr
    assert ("training failed at step 2: disk full while saving the checkpoint of step 2; the checkpoint of step 1 "
            "is kept") in result.stderr
    assert "Traceback" not in result.stderr and "enforce fail" not in result.stderr
    assert ".tmp" not in result.stdout and "step-0000001.pt" in result.stdout  # no temp file left
    assert "loads step" in result.stdout

"""The real CLI in a subprocess on tiny real data: scan -> preview -> train -> resume -> embed -> probe."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TASK = {"image": "rotation", "audio": "masked_spectrogram", "text": "mlm"}


def cli(*args, expect=0):
    result = subprocess.run([sys.executable, "-m", "sslstudio", *map(str, args)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == expect, f"exit {result.returncode}\nstdout:{result.stdout}\nstderr:{result.stderr}"
    return result


def cli_json(*args):
    return json.loads(cli(*args, "--json").stdout)


@pytest.mark.parametrize("modality", ["image", "audio", "text"])
def test_whole_loop(modality, tiny_images, tiny_audio, tiny_text, tmp_path):
    folder = {"image": tiny_images, "audio": tiny_audio, "text": tiny_text}[modality]
    scan = cli_json("scan", folder)
    assert scan["modality"] == modality and scan["usable_samples"] > 20 and scan["bad_files"] == []
    assert len(scan["labels"][modality]) >= 3
    assert scan["store"]["bytes"] > 0  # decoded once; the commands below read the store

    sheet = tmp_path / "sheet.png"
    cli("preview", folder, "--task", TASK[modality], "--n", 3, "--out", sheet)
    assert Image.open(sheet).size[0] > 300

    run = tmp_path / "run"
    first = cli_json("train", folder, "--task", TASK[modality], "--out", run, "--max-steps", 4, "--batch-size", 8)
    assert first["reason"] == "step limit of 4 reached" and first["step"] == 4
    cli("train", folder, "--task", TASK[modality], "--out", run, "--max-steps", 6, expect=2)  # no overwrite
    resumed = cli_json("train", folder, "--out", run, "--max-steps", 6, "--resume")
    assert resumed["step"] == 6
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and steps[-1] == 6
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == TASK[modality] and config["train"]["max_steps"] == 6

    live = tmp_path / "live.png"
    cli("preview", folder, "--run", run, "--n", 2, "--out", live)
    if modality != "image":  # masked spectrogram and MLM add the model's output beside the input
        assert Image.open(live).size[0] > Image.open(sheet).size[0]

    out = tmp_path / "emb.npz"
    summary = cli_json("embed", run, folder, "--out", out)
    with np.load(out) as arrays:
        assert arrays["embeddings"].shape == (summary["samples"], summary["dim"])
        assert arrays["embeddings"].dtype == np.float32 and np.isfinite(arrays["embeddings"]).all()
        assert len(arrays["paths"]) == len(arrays["labels"]) == summary["samples"]

    result = cli_json("probe", run, "--labelled", folder, "--per-class", 3, "--method", "knn", "--baselines")
    classes = len(scan["labels"][modality])
    assert result["n_train"] == 3 * classes and result["n_test"] == summary["samples"] - 3 * classes
    assert 0 <= result["accuracy"] <= 1 and set(result["baselines"]) == {"random_init", "raw"}

    model = tmp_path / "model.onnx"
    exported = cli_json("export", run, "--format", "onnx", "--out", model, "--labelled", folder, "--per-class", 3,
                        "--check-samples", 16)
    assert model.is_file() and exported["parity"]["passed"]
    assert exported["parity"]["samples"] == min(16, result["n_test"])  # checked on samples the head did not see
    assert exported["classes"] == sorted(scan["labels"][modality])


def test_bad_files_are_reported_and_the_rest_trains(tiny_images, tmp_path):
    (tiny_images / "0_t-shirt_top" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    (tiny_images / "1_trouser" / "empty.jpg").write_bytes(b"")
    os.symlink(tmp_path / "nowhere.png", tiny_images / "1_trouser" / "link.png")
    scan = cli_json("scan", tiny_images)
    assert {b["path"] for b in scan["bad_files"]} == {"0_t-shirt_top/broken.png", "1_trouser/empty.jpg",
                                                      "1_trouser/link.png"}
    assert all(b["reason"] for b in scan["bad_files"])
    result = cli("train", tiny_images, "--task", "rotation", "--out", tmp_path / "run", "--max-steps", 2,
                 "--batch-size", 8)
    assert "skipped 1_trouser/empty.jpg: empty file" in result.stderr


@pytest.mark.parametrize("args,message", [
    (["scan", "/nonexistent/folder"], "folder not found"),
    (["train", "{images}", "--task", "puzzle9", "--out", "{tmp}/r"], "unknown task 'puzzle9'"),
    (["train", "{images}", "--task", "mlm", "--out", "{tmp}/r"], "no usable text files"),
    (["train", "{images}", "--task", "rotation", "--out", "{tmp}/r", "--set", "all_rotations=maybe"],
     "'all_rotations' must be bool"),
    (["preview", "{images}", "--task", "rotation", "--out", "{tmp}/s.png", "--set", "bogus=1"], "unknown setting"),
    (["train", "{images}", "--out", "{tmp}/r", "--resume"], "nothing to resume"),
    (["embed", "{tmp}", "{images}", "--out", "{tmp}/e.npz"], "not a run folder"),
    (["train", "{images}", "--task", "rotation", "--out", "{tmp}/r", "--device", "quantum"], "unknown device"),
])
def test_usage_errors_exit_2_with_one_line(args, message, tiny_images, tmp_path):
    filled = [a.format(images=tiny_images, tmp=tmp_path) for a in args]
    result = cli(*filled, expect=2)
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_tasks_json_lists_every_task_with_its_schema():
    listing = cli_json("tasks")
    assert {t["name"] for t in listing["tasks"]} >= {"rotation", "masked_spectrogram", "mlm"}
    assert listing["backbones"]["image"]["default"] == "cnn_small"
    audio_only = cli_json("tasks", "--modality", "audio")
    assert {t["modality"] for t in audio_only["tasks"]} == {"audio"}
    from sslstudio.core.tasks.base import COSTS, FAMILIES

    assert all(t["family"] in FAMILIES and t["cost"] in COSTS for t in listing["tasks"])
    assert {r["name"] for r in audio_only["recipes"]} >= {"audio-cpu"}
    assert all(r["modality"] == "audio" and r["evidence"] for r in audio_only["recipes"])
    assert "recipe audio-cpu" in cli("tasks", "--modality", "audio").stdout


def test_train_takes_a_recipe_and_the_options_given_win(tiny_images, tmp_path):
    from sslstudio.core.recipes import get_recipe

    recipe = get_recipe("image-cpu")
    result = cli("train", tiny_images, "--recipe", "image-cpu", "--out", tmp_path / "run", "--max-steps", 2,
                 "--batch-size", 8)
    assert f"recipe image-cpu: {recipe.summary()}" in result.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (config["recipe"], config["task"], config["backbone"]) == ("image-cpu", recipe.task, recipe.backbone)
    assert config["train"]["batch_size"] == 8 and config["train"]["max_minutes"] == recipe.train["max_minutes"]
    refused = cli("train", tiny_images, "--recipe", "image-cpu", "--task", "rotation", "--out", tmp_path / "r2",
                  expect=2)
    assert "recipe image-cpu trains" in refused.stderr and "drop --task or --recipe" in refused.stderr


def torchrun(*args):
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "sslstudio",
                             *map(str, args), "--batch-size", "8", "--device", "cpu"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_train_under_torchrun_with_two_cpu_processes(tmp_path):
    from tests.conftest import make_images

    folder = make_images(tmp_path / "photos", 600)  # more than a preview's handful: every rank uses the store
    stores = tmp_path / "shared-stores"  # as on a network file system both nodes mount
    run = tmp_path / "ddp"
    result = torchrun("train", folder, "--task", "rotation", "--out", run, "--max-steps", 3, "--store", stores)
    [store] = [p for p in stores.iterdir() if p.is_dir()]
    data = store / "samples.bin"
    written = (data.stat().st_size, data.stat().st_mtime_ns)
    assert written[0] == 600 * 3 * 37 * 37  # one rank decoded every file once; the other waited and read it
    assert result.stderr.count("finished at step 3") == 1  # rank 0 speaks for both
    assert result.stderr.count("finished at step 3") == 1  # rank 0 speaks for both
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [3]
    # A time budget stops both ranks at the same step; a rank left behind would hang in its gradient sync.
    result = torchrun("train", folder, "--out", run, "--resume", "--max-steps", 100_000, "--max-minutes", 0.1,
                      "--store", stores)
    assert ": time budget of 0.1 min used" in result.stderr
    assert (data.stat().st_size, data.stat().st_mtime_ns) == written  # both ranks read the store as it was
    cli("embed", run, folder, "--out", tmp_path / "e.npz", "--store", stores)
    assert (data.stat().st_size, data.stat().st_mtime_ns) == written


def test_text_under_torchrun_every_rank_tokenizes_alike(tiny_text, tmp_path):
    # Each rank fitting its own WordPiece vocabulary could give heads of different sizes; rank 0 fits, the
    # others receive its pipeline.
    result = torchrun("train", tiny_text, "--task", "mlm", "--out", tmp_path / "ddp", "--max-steps", 2)
    assert result.stderr.count("finished at step 2") == 1


def test_the_store_is_listed_and_cleared_from_the_command_line(tiny_images, tmp_path):
    stores = tmp_path / "stores"
    cli("scan", tiny_images, "--store", stores)
    listed = cli_json("store", "list", "--store", stores)
    [entry] = listed["stores"]
    assert entry["folder"] == str(tiny_images.resolve()) and entry["samples"] == 48 and entry["bytes"] > 0
    assert "1 store(s)" in cli("store", "list", "--store", stores).stdout
    cleared = cli_json("store", "clear", str(tiny_images), "--store", stores)
    assert cleared["removed"] == [entry["path"]] and cli_json("store", "list", "--store", stores)["stores"] == []


def test_train_chooses_inputs_and_backbone_from_the_folder_and_says_so(tmp_path):
    from tests.conftest import make_images

    folder = make_images(tmp_path / "sprites", 30, size=(72, 80))
    run = tmp_path / "run"
    result = cli("train", folder, "--task", "rotation", "--out", run, "--max-steps", 1, "--batch-size", 4,
                 "--device", "cpu")
    assert "images are about 72 px" in result.stderr and "64 px on a CPU" in result.stderr
    assert "backbone cnn_small" in result.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["spec"]["image_size"] == 64 and config["backbone"] == "cnn_small"


def test_demo_runs_the_whole_loop_on_the_bundled_data(tmp_path):
    from sslstudio.core.recipes import recommended

    result = cli_json("demo", "--max-minutes", "0.03", "--out", tmp_path)
    live = [r for r in result["results"] if r["kind"].startswith("live run")]
    assert [r["modality"] for r in live] == ["image", "audio", "text"]
    references = [r for r in result["results"] if r["kind"].startswith("reference run")]
    assert [r["modality"] for r in references] == ["image", "audio", "text"]  # shipped in resources/
    assert all(r["kind"] == "reference run, 5 CPU min" and r["steps"] > 100 for r in references)
    for r in result["results"]:
        recipe = recommended(r["modality"], "cpu")
        assert r["steps"] > 0 and 0 <= r["probe"]["accuracy"] <= 1 and r["task"] == recipe.task
        assert r["verdict"].startswith("Self-supervision ") and r["recipe_measured"] == recipe.evidence()
    for r in live:
        assert (tmp_path / r["run"]).joinpath("embeddings.npz").is_file()
        assert r["recipe"] == recommended(r["modality"], "cpu").name and r["kind"] == "live run, 2 s"
        assert json.loads((Path(r["run"]) / "config.json").read_text())["recipe"] == r["recipe"]


def test_label_efficiency_curve_from_the_command_line(tiny_images, tmp_path):
    run = tmp_path / "run"
    cli("train", tiny_images, "--task", "rotation", "--out", run, "--max-steps", 2, "--batch-size", 8)
    curve = cli_json("curve", run, "--labelled", tiny_images, "--shots", 1, 3, "--seeds", 0, 1, "--method", "knn")
    assert curve["shots"] == [1, 3, 0] and curve["seeds"] == [0, 1] and curve["method"] == "knn"
    assert set(curve["mean"]) == {"ssl", "random_init", "raw"}
    assert all(len(values) == 3 and all(0 <= v <= 1 for v in values) for values in curve["mean"].values())
    assert curve["n_train"][:2] == [4, 12]  # four classes
    table = cli("curve", run, "--labelled", tiny_images, "--shots", 2, "--seeds", 0).stdout
    assert "labels/class" in table and "all" in table


def test_a_full_disk_while_building_the_store_is_one_line_and_keeps_what_was_decoded(tmp_path):
    from tests.conftest import make_images

    folder = make_images(tmp_path / "photos", 800)
    limited = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
               "resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000)); "  # files stop growing at 300 KB
               "from sslstudio.cli.main import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", limited, "scan", str(folder), "--image-size", "16",
                             "--store", str(tmp_path / "stores")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "could not be written (File too large)" in result.stderr and "Traceback" not in result.stderr
    again = cli_json("scan", folder, "--image-size", "16", "--store", tmp_path / "stores")  # room again: it carries on
    assert again["usable_samples"] == 800


def test_embed_writes_csv_and_parquet_with_the_map(tiny_images, tmp_path):
    import pyarrow.parquet as pq

    run = tmp_path / "run"
    cli("train", tiny_images, "--task", "rotation", "--out", run, "--max-steps", 2, "--batch-size", 8)
    summary = cli_json("embed", run, tiny_images, "--out", tmp_path / "e.parquet", "--map", "pca")
    assert summary["format"] == "parquet" and summary["map"] == "pca" and summary["samples"] == 48
    table = pq.read_table(tmp_path / "e.parquet")
    assert table.column_names == ["id", "filepath", "label", "x", "y", "embedding"]
    assert set(table.column("label").to_pylist()) == {"0_t-shirt_top", "1_trouser", "2_pullover", "3_dress"}
    assert all(Path(path).is_file() for path in table.column("filepath").to_pylist())
    cli("embed", run, tiny_images, "--out", tmp_path / "e.txt", "--format", "csv", "--tensorboard", tmp_path / "tb")
    assert (tmp_path / "e.txt").read_text().startswith("id,filepath,label,e0,")
    assert "sprite" in (tmp_path / "tb" / "projector_config.pbtxt").read_text()

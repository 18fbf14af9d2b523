"""TensorBoard's files, read back with TensorBoard's own reader: a run's curves and health, a probe's score,
a resumed run's purge, and the projector's files for a folder of images."""
import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.evaluation.probe import probe
from sslstudio.core.training.session import TrainRequest, load_run, train
from sslstudio.core.training.tensorboard import write_projector


def scalars(run_path) -> dict[str, list[tuple[int, float]]]:
    board = EventAccumulator(str(run_path), size_guidance={"scalars": 0})
    board.Reload()
    return {tag: [(e.step, e.value) for e in board.Scalars(tag)] for tag in board.Tags()["scalars"]}


def test_a_run_writes_its_curves_health_and_probes_for_tensorboard(tiny_images, tmp_path):
    run_path = tmp_path / "run"
    train(TrainRequest(tiny_images, run_path, "rotation",
                       train_settings={"max_steps": 4, "batch_size": 8, "log_every": 2, "checkpoint_minutes": 0.0}))
    read = scalars(run_path)
    logged = [record for record in (load_run(run_path).run_dir.read_metrics()) if "loss" in record]
    assert [step for step, _ in read["loss"]] == [record["step"] for record in logged] == [2, 4]
    assert np.allclose([value for _, value in read["loss"]], [record["loss"] for record in logged])
    assert {"learning_rate", "speed/samples_per_s", "task/accuracy", "health/collapse_std",
            "health/effective_rank"} <= set(read)

    run = load_run(run_path)
    samples = load_folder(tiny_images, "image", labels="folders", spec=run.pipeline.spec)
    result = probe(run, samples, per_class=3, baselines=True)
    read = scalars(run_path)
    assert read["probe/linear@3"] == [(4, np.float32(result["accuracy"]))]
    assert [step for step, _ in read["probe/linear@3/raw"]] == [4]


def test_a_run_resumed_from_an_earlier_checkpoint_purges_the_later_points(tiny_images, tmp_path):
    run_path = tmp_path / "run"
    settings = {"max_steps": 4, "batch_size": 8, "log_every": 1, "checkpoint_minutes": 0.0}
    train(TrainRequest(tiny_images, run_path, "rotation", train_settings=settings))
    earlier = sorted((run_path / "checkpoints").glob("step-*.pt"))[0]
    train(TrainRequest(tiny_images, run_path, resume=True, resume_from=str(earlier),
                       train_settings={"max_steps": 4}))
    steps = [step for step, _ in scalars(run_path)["loss"]]
    assert steps == sorted(set(steps)) and steps[-1] == 4  # each step once, in order


def test_the_projector_files_hold_vectors_metadata_and_a_sprite(tiny_images, tmp_path):
    samples = load_folder(tiny_images, "image")
    vectors = np.random.default_rng(0).normal(size=(len(samples), 6)).astype(np.float32)
    folder = write_projector(tmp_path / "board", vectors, samples.ids, samples.labels, samples)
    config = (folder / "projector_config.pbtxt").read_text()
    assert "sprite" in config and "metadata_path" in config and "single_image_dim: 32" in config
    embedded = next(folder.glob("*/embeddings"), None) or next(folder.rglob("tensors.tsv")).parent
    rows = (embedded / "tensors.tsv").read_text().splitlines()
    assert len(rows) == len(samples) and np.allclose(np.array(rows[3].split("\t"), dtype=float), vectors[3],
                                                     atol=1e-5)
    metadata = (embedded / "metadata.tsv").read_text().splitlines()
    assert metadata[0] == "id\tlabel" and metadata[1].split("\t") == [samples.ids[0], samples.labels[0]]
    assert (embedded / "sprite.png").is_file()

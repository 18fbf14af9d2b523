import numpy as np
import pytest

from sslstudio.core.data.labels import few_shot_split, load_labelled
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.errors import UserError
from sslstudio.core.evaluation.classifiers import linear_predict
from sslstudio.core.knn import knn_predict


def blobs(seed=0, n=40):
    rng = np.random.default_rng(seed)
    centres = np.eye(3, 8) * 5
    labels = np.repeat(np.array(["a", "b", "c"]), n)
    return centres[np.repeat(np.arange(3), n)] + rng.normal(size=(3 * n, 8)), labels


def test_knn_and_linear_separate_clear_clusters_and_fail_on_noise():
    x, y = blobs()
    train, test = few_shot_split(y, 5, seed=0)
    assert (knn_predict(x[train], y[train], x[test]) == y[test]).mean() > 0.95
    assert (linear_predict(x[train], y[train], x[test], 0) == y[test]).mean() > 0.95
    noise = np.random.default_rng(1).normal(size=x.shape)
    assert (knn_predict(noise[train], y[train], noise[test]) == y[test]).mean() < 0.6


def test_knn_finds_neighbours_under_a_large_shared_offset():
    # Pooled post-ReLU features share a big common vector, so every plain cosine sits near 1
    # and the vote degrades to the nearest class mean. XOR classes (two opposite quadrants
    # each) have equal means, so only real neighbours separate them.
    rng = np.random.default_rng(0)
    quadrant = rng.integers(0, 4, 400)
    corners = np.array([[3, 3], [-3, -3], [3, -3], [-3, 3]])
    xy = corners[quadrant] + rng.normal(scale=0.5, size=(400, 2))
    x = np.column_stack([xy, np.full(400, 100.0)])
    y = np.where(quadrant < 2, "same-sign", "opposite-sign")
    train, test = few_shot_split(y, 10, seed=0)
    assert (knn_predict(x[train], y[train], x[test]) == y[test]).mean() > 0.95


def test_few_shot_split_is_seeded_balanced_and_disjoint():
    _, y = blobs()
    train, test = few_shot_split(y, 4, seed=5)
    again, _ = few_shot_split(y, 4, seed=5)
    other, _ = few_shot_split(y, 4, seed=6)
    np.testing.assert_array_equal(train, again)
    assert not np.array_equal(train, other)
    assert sorted(np.unique(y[train], return_counts=True)[1]) == [4, 4, 4]
    assert not set(train) & set(test) and len(train) + len(test) == len(y)
    with pytest.raises(UserError, match="not enough"):
        few_shot_split(y, 40, seed=0)


def test_split_column_decides_train_pool_and_test_rows():
    y = np.array(["a", "a", "a", "b", "b", "b"])
    splits = ["train", "train", "test", "train", "train", "test"]
    train, test = few_shot_split(y, 1, seed=0, splits=splits)
    assert set(test) == {2, 5} and len(train) == 2 and set(train) <= {0, 1, 3, 4}


def test_label_csv_with_relative_and_absolute_paths(tiny_images, tmp_path):
    files = sorted(tiny_images.rglob("*.png"))
    rows = ["path,label,split"]
    for i, f in enumerate(files):
        path = f.relative_to(tmp_path) if i % 2 else f
        rows.append(f"{path},{f.parent.name},{'test' if i % 4 == 0 else 'train'}")
    rows.append("missing/file.png,ghost,train")
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    samples = load_labelled(csv_path, None, InputSpec())
    assert len(samples) == len(files)
    assert [b.path for b in samples.bad] == ["missing/file.png"]
    assert set(samples.splits) == {"train", "test"}


def test_label_csv_without_header_is_a_clear_error(tmp_path):
    (tmp_path / "l.csv").write_text("a.png,cat\n")
    with pytest.raises(UserError, match="path,label"):
        load_labelled(tmp_path / "l.csv", None, InputSpec())


def test_past_max_samples_a_probe_uses_a_stated_draw_and_its_baselines_see_only_those_rows(tiny_images, tmp_path):
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.evaluation.probe import probe
    from sslstudio.core.training.session import TrainRequest, load_run, train

    train(TrainRequest(tiny_images, tmp_path / "run", "rotation", train_settings={"max_steps": 2, "batch_size": 8}))
    run = load_run(tmp_path / "run")
    samples = load_folder(tiny_images, "image", spec=run.pipeline.spec)  # 4 classes x 12
    whole = probe(run, samples, 3, "knn", baselines=True, device="cpu", max_samples=0)
    assert whole["n_train"] + whole["n_test"] == 48 and whole["note"] == ""
    drawn = probe(run, samples, 3, "knn", baselines=True, device="cpu", max_samples=24)
    assert drawn["n_train"] == 12 and drawn["n_test"] == 12  # 6 per class drawn: 3 to learn from, 3 to test
    assert "stratified draw of 24 of the 48 labelled samples" in drawn["note"]


def test_segments_of_one_recording_stay_on_one_side_of_a_split():
    from sslstudio.core.evaluation.label_efficiency import holdout

    labels = np.repeat(np.array(["a", "b"]), 12)
    groups = np.array([f"{label}{i // 3}.wav" for i, label in enumerate(labels)])  # 4 recordings of 3 segments
    train, test = few_shot_split(labels, 2, seed=0, groups=groups)
    assert not set(groups[train]) & set(groups[test]) and len(train) == 4 and len(test) > 0
    for seed in range(5):
        pools, held = holdout(labels, seed, groups=groups)
        pooled = np.concatenate(list(pools.values()))
        assert not set(groups[pooled]) & set(groups[held]) and len(held) >= 2

"""The Fine-tune page's state without Qt: features are computed once per run, checkpoint, folder and label
source, and labels made in the app refit on them."""
import numpy as np

from sslstudio.core.evaluation.session import EvaluationSession, evaluate_labels, load_features
from sslstudio.core.evaluation.settings import CurveSettings
from sslstudio.core.training.session import TrainRequest, train


def test_features_are_kept_for_their_source_and_app_labels_refit_on_them(tiny_images, tmp_path):
    run = tmp_path / "run"
    train(TrainRequest(tiny_images, run, "rotation", train_settings={"max_steps": 2, "batch_size": 8}))
    session = EvaluationSession()
    session.set_folder(tiny_images, "image")
    key = session.key_for(run, None)
    assert session.cached(key) is None and not session.ready
    computed = load_features(key)
    settings = CurveSettings(shots=(1, 0), seeds=(0,))
    session.set_evaluation(key, computed, *evaluate_labels(computed, {}, settings))
    assert session.ready and set(session.curve.mean) == {"ssl", "random_init", "raw"}
    assert len(session.rows) == len(session.samples) and session.cached(key)[2] is session.features

    made = session.label([0, 1, 2], "picked", {})  # labels made in the app: the same features, a new class
    assert made == {session.samples.ids[i]: "picked" for i in range(3)}
    rows, curve, errors = evaluate_labels(session.cached(key), made, settings)
    assert "picked" in errors.classes and len(rows) == len(session.samples)
    assert np.array_equal(session.labels(made)[:3], ["picked"] * 3)

    assert session.cached(session.key_for(run, "other.pt")) is None  # another checkpoint: other features
    session.set_csv(str(tmp_path / "labels.csv"))
    assert not session.ready and session.cached(key) is None  # another label source drops them


def test_baselines_are_computed_for_the_evaluated_rows_only_and_kept(tiny_images, tmp_path):
    from sslstudio.core.embeddings.extract import compute_embeddings
    from sslstudio.core.evaluation.probe import raw_features

    run = tmp_path / "run"
    train(TrainRequest(tiny_images, run, "rotation", train_settings={"max_steps": 2, "batch_size": 8}))
    session = EvaluationSession()
    session.set_folder(tiny_images, "image")
    loaded, samples, features = computed = load_features(session.key_for(run, None))
    rows, curve, _ = evaluate_labels(computed, {}, CurveSettings(shots=(1, 0), seeds=(0,), max_samples=20))
    assert len(rows) == 20 and curve.n_used == 20 and curve.n_labelled == 48
    assert "stratified draw of 20 of the 48" in curve.note() and "stratified draw" in curve.to_dict()["note"]
    for name in ("ssl", "random_init", "raw"):
        assert np.array_equal(features[name].rows, rows)  # nothing computed for the other 28 samples

    rows, curve, _ = evaluate_labels(computed, {}, CurveSettings(shots=(1, 0), seeds=(0,), max_samples=0))
    assert len(rows) == 48 and curve.note() == ""
    # Rows computed in two goes equal one pass over every sample: the kept rows are in their places.
    assert np.allclose(features["raw"].take(rows), raw_features(loaded, samples), atol=1e-5)
    random_init = loaded.with_random_backbone(0)
    assert np.allclose(features["random_init"].take(rows), compute_embeddings(random_init, samples, device="cpu"),
                       atol=1e-4)


def test_too_few_labels_are_one_line_before_any_feature_is_computed(tiny_images, tmp_path):
    import pytest

    from sslstudio.core.errors import UserError

    run = tmp_path / "run"
    train(TrainRequest(tiny_images, run, "rotation", train_settings={"max_steps": 1, "batch_size": 8}))
    session = EvaluationSession()
    session.set_folder(tiny_images, "image")
    loaded, samples, features = computed = load_features(session.key_for(run, None))
    samples.labels[:] = [None] * len(samples)  # nothing labelled, as in a folder without class folders
    with pytest.raises(UserError, match="at least two classes"):
        evaluate_labels(computed, {}, CurveSettings(shots=(1, 0), seeds=(0,)))
    with pytest.raises(UserError, match="at least two classes"):
        evaluate_labels(computed, {samples.ids[0]: "one", samples.ids[1]: "one"}, CurveSettings(seeds=(0,)))
    assert all(len(feature_set.rows) == 0 for feature_set in features.values())

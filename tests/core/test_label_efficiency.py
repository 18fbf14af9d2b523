"""The label-efficiency curve, the refitted probe and "label these next", on the real digits scans."""
import numpy as np
import pytest
from sklearn.datasets import load_digits

from sslstudio.core.errors import UserError
from sslstudio.core.evaluation.active import fit_probe, suggest
from sslstudio.core.evaluation.label_efficiency import holdout, label_efficiency


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.data.astype(np.float32), np.array([f"digit {d}" for d in data.target])


def test_curve_rises_with_labels_and_beats_noise_features(digits):
    x, y = digits
    noise = np.random.default_rng(0).normal(size=x.shape).astype(np.float32)
    curve = label_efficiency({"pixels": x, "noise": noise}, y, shots=(1, 5, 20, 1000), seeds=(0, 1))
    assert curve.shots == [1, 5, 20, 0]  # 1000 is more than any pool holds: it is the "all" point
    pixels = curve.mean["pixels"]
    assert pixels[0] < pixels[1] < pixels[2] <= pixels[3] + 0.01
    assert pixels[-1] > 0.9 and max(curve.mean["noise"]) < 0.25  # ten classes: chance is 0.1
    assert curve.n_train[:3] == [10, 50, 200] and curve.n_test > 500
    assert all(s >= 0 for s in curve.std["pixels"])
    assert curve.to_dict()["seeds"] == [0, 1]


def test_points_arrive_from_the_fewest_labels_up_and_progress_ends_at_the_whole(digits):
    x, y = digits
    seen, reports = [], []
    curve = label_efficiency({"pixels": x}, y, shots=(20, 1, 5, 0), seeds=(0, 1),
                             progress=lambda d, t: reports.append((d, t)),
                             on_point=lambda c: seen.append((list(c.shots), list(c.mean["pixels"]))))
    assert [shots for shots, _ in seen] == [[1], [1, 5], [1, 5, 20]]  # "all labels", the dearest, is the curve itself
    assert seen[-1][1] == curve.mean["pixels"][:3]
    done = [d for d, _ in reports]
    assert done == sorted(done) and reports[-1] == (100, 100) and all(t == 100 for _, t in reports)
    # The few-label points are cheap: most of the work is the last point's (its two seeds' fits), so the
    # ETA does not run ahead. (A fit that runs long repeats its report while it runs.)
    assert sorted(set(done))[-3] < 60


def test_evaluation_rows_draw_each_class_by_its_share_past_the_cap():
    from sslstudio.core.evaluation.label_efficiency import evaluation_rows

    labels = np.array(["a"] * 900 + ["b"] * 90 + ["c"] * 3 + [""] * 7)
    assert len(evaluation_rows(labels, 0)) == 993 and len(evaluation_rows(labels, 5000)) == 993
    rows = evaluation_rows(labels, 100)
    counts = {cls: int((labels[rows] == cls).sum()) for cls in "abc"}
    assert counts == {"a": 91, "b": 9, "c": 2}  # by share; the rare class keeps two, so it can still be tested
    assert np.array_equal(rows, evaluation_rows(labels, 100)) and "" not in labels[rows]


def test_knn_curve_and_holdout_protocol(digits):
    x, y = digits
    curve = label_efficiency({"pixels": x}, y, shots=(2, 10), seeds=(3,), method="knn")
    assert curve.method == "knn" and curve.mean["pixels"][0] < curve.mean["pixels"][-1]
    pools, test = holdout(y, seed=3)
    pooled = np.concatenate(list(pools.values()))
    assert len(np.intersect1d(pooled, test)) == 0 and len(pooled) + len(test) == len(y)
    again_pools, again_test = holdout(y, seed=3)
    np.testing.assert_array_equal(test, again_test)
    # A CSV's split column decides instead of the shuffle.
    splits = ["test" if i % 4 == 0 else "train" for i in range(len(y))]
    _, csv_test = holdout(y, seed=3, splits=splits)
    np.testing.assert_array_equal(csv_test, np.arange(0, len(y), 4))
    with pytest.raises(UserError, match="two classes"):
        label_efficiency({"pixels": x[:5]}, np.array(["a"] * 5))


def test_probe_refit_gives_every_sample_a_prediction_and_confidence(digits):
    x, y = digits
    labelled = np.arange(0, len(x), 10)
    fit = fit_probe(x, labelled, y[labelled])
    assert fit.probabilities.shape == (len(x), 10) and len(fit.classes) == 10
    assert (fit.predicted == y).mean() > 0.85
    assert np.all((fit.confidence > 0) & (fit.confidence <= 1)) and np.all((fit.margin >= 0) & (fit.margin <= 1))
    with pytest.raises(ValueError, match="two classes"):
        fit_probe(x, [0, 1], ["a", "a"])


def test_suggestions_are_unlabelled_uncertain_and_spread_out(digits):
    x, y = digits
    labelled = np.arange(0, len(x), 20)
    picked = suggest(x, labelled, y[labelled], count=12, seed=0)
    assert len(picked) == 12 and len(set(picked.tolist())) == 12
    assert not set(picked.tolist()) & set(labelled.tolist())
    margin = fit_probe(x, labelled, y[labelled]).margin
    unlabelled = np.setdiff1d(np.arange(len(x)), labelled)
    assert np.median(margin[picked]) < np.median(margin[unlabelled])  # the probe hesitates on them
    # Diversity: no two suggestions are near-duplicates of each other.
    unit = x[picked] / np.linalg.norm(x[picked], axis=1, keepdims=True)
    similarity = unit @ unit.T
    assert similarity[~np.eye(12, dtype=bool)].max() < 0.99
    # Cold start (one class or none labelled): diversity alone, still deterministic for a seed.
    cold = suggest(x, [], [], count=10, seed=1)
    assert len(set(cold.tolist())) == 10 and cold.tolist() == suggest(x, [], [], count=10, seed=1).tolist()
    assert len(set(y[cold].tolist())) >= 5  # spread over the data, not ten of one kind


def test_errors_report_confusion_per_class_accuracy_and_the_misclassified(digits):
    from sslstudio.core.evaluation.report import errors

    x, y = digits
    report = errors(x, y, method="linear", seed=0)
    assert report.classes == sorted(set(y.tolist())) and report.confusion.shape == (10, 10)
    tested = report.confusion.sum()
    assert tested == len(holdout(y, 0)[1])
    assert abs(report.accuracy - np.trace(report.confusion) / tested) < 1e-9
    assert len(report.misclassified) == tested - np.trace(report.confusion)
    assert all(y[row] != predicted for row, predicted in zip(report.misclassified, report.predicted, strict=True))
    assert 0.9 < report.accuracy and all(0 <= a <= 1 for a in report.per_class)


def test_the_curve_says_in_words_where_pretraining_helps_and_where_it_does_not():
    from sslstudio.core.evaluation.label_efficiency import LabelCurve

    curve = LabelCurve([1, 10, 0], mean={"ssl": [0.50, 0.70, 0.80], "random_init": [0.30, 0.50, 0.70],
                                         "raw": [0.40, 0.69, 0.85]},
                       std={"ssl": [0.02, 0.02, 0.01], "random_init": [0.02, 0.02, 0.02], "raw": [0.02, 0.02, 0.01]})
    text = curve.verdict("raw pixels")
    assert text.startswith("Pretraining helps at 1 per class (+10.0 points against raw pixels).")
    assert "It does not at all labels (-5.0 points against raw pixels)." in text
    assert text.endswith("At 10 per class the difference is within the spread between seeds.")
    assert LabelCurve([1], mean={"raw": [0.5]}, std={"raw": [0.0]}).verdict() == ""
    losing = LabelCurve([5], mean={"ssl": [0.4], "raw": [0.6]}, std={"ssl": [0.01], "raw": [0.01]})
    assert losing.verdict("raw pixels") == "Pretraining does not help at 5 per class (-20.0 points against raw pixels)."


def test_wide_features_are_narrowed_to_their_principal_components_and_the_curve_says_so(digits):
    from sslstudio.core.evaluation.classifiers import PROBE_WIDTH, narrowed
    from sslstudio.core.evaluation.label_efficiency import LabelCurve

    x, y = digits
    wide = np.hstack([x, np.random.default_rng(0).normal(size=(len(x), 900)).astype(np.float32)])  # 964 values
    reduced, width = narrowed(wide)
    assert reduced.shape == (len(x), PROBE_WIDTH) and width == 964
    assert narrowed(x)[0] is x  # narrow enough already: left as it is
    curve = label_efficiency({"wide": reduced}, y, shots=(5, 0), seeds=(0,))
    assert curve.mean["wide"][-1] > 0.8  # the digits' classes survive the reduction
    note = LabelCurve([], method="linear", n_used=100, n_labelled=100, narrowed={"raw": 3072}).note()
    assert note == f"raw (3,072 values) reduced to {PROBE_WIDTH} principal components of the evaluated samples " \
                   "for the linear probe"


def test_a_cancel_is_answered_while_a_fit_still_runs():
    import threading

    from sslstudio.core.errors import Cancelled
    from sslstudio.core.evaluation.label_efficiency import answering
    from sslstudio.core.progress import Control

    control, started, release = Control(), threading.Event(), threading.Event()

    def fit_without_hooks(value):  # stands for a library call that cannot be stopped from outside
        started.set()
        release.wait()
        return value

    assert answering(control, 0, lambda value: value, 7) == 7
    threading.Thread(target=lambda: (started.wait(), control.cancel())).start()
    with pytest.raises(Cancelled):
        answering(control, 5, fit_without_hooks, 1)
    assert not release.is_set()  # answered while the call still ran: it goes on unseen, its result dropped
    release.set()

"""Accuracy against labels per class: what the pretraining is worth at each labelling budget.

Protocol, per seed: a stratified test set is held out once (or the CSV's `test`
rows are used), and the remaining labelled samples form the pool. For each K the
first K of one seeded shuffle of each class's pool are the training set, so a
larger K contains the smaller ones and the curve moves only because of the
labels added. Every feature set (the SSL backbone, its random-init copy, raw
inputs) is scored on exactly the same draws.
"""
from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sslstudio.core.errors import UserError
from sslstudio.core.evaluation.classifiers import PROBE_WIDTH, predict
from sslstudio.core.progress import Progress

SHOTS = (1, 2, 5, 10, 20, 50, 0)  # 0: every labelled sample in the pool
TEST_FRACTION = 0.3


@dataclass
class LabelCurve:
    shots: list[int]  # labels per class, ending with 0: all available
    mean: dict[str, list[float]] = field(default_factory=dict)
    std: dict[str, list[float]] = field(default_factory=dict)
    n_train: list[int] = field(default_factory=list)  # labelled samples used at each point (first seed)
    n_test: int = 0
    seeds: tuple[int, ...] = ()
    method: str = "linear"
    n_used: int = 0  # labelled samples the curve was measured on (train pools and test set)
    n_labelled: int = 0  # labelled samples there were: more than n_used when the curve used a draw of them
    narrowed: dict[str, int] = field(default_factory=dict)  # feature set -> its width, where a probe reduced it

    def to_dict(self) -> dict:
        return {"shots": self.shots, "mean": self.mean, "std": self.std, "n_train": self.n_train,
                "n_test": self.n_test, "seeds": list(self.seeds), "method": self.method,
                "n_used": self.n_used, "n_labelled": self.n_labelled, "narrowed": self.narrowed,
                "note": self.note()}

    def note(self) -> str:
        """What was left out or reduced, in words ("" when nothing was): the curve's honesty about a large
        folder and wide features."""
        parts = []
        if self.n_labelled > self.n_used:
            parts.append(f"measured on a stratified draw of {self.n_used:,} of the {self.n_labelled:,} labelled "
                         f"samples ('all labels' is every label of that draw); raise 'max samples' to use more")
        if self.narrowed:
            wide = ", ".join(f"{name} ({width:,} values)" for name, width in self.narrowed.items())
            parts.append(f"{wide} reduced to {PROBE_WIDTH} principal components of the evaluated samples for "
                         f"the {self.method} probe")
        return "; ".join(parts)

    def verdict(self, raw_words: str = "the raw inputs") -> str:
        """In words: at which labelling budgets the pretraining helps, by how much, and where it does not,
        against the stronger of the two baselines at each point (a gap inside the seeds' spread is a tie)."""
        if "ssl" not in self.mean:
            return ""
        words = {"raw": raw_words, "random_init": "the untrained network"}
        helps, loses, ties = [], [], []
        for j, k in enumerate(self.shots):
            others = {name: self.mean[name][j] for name in words if name in self.mean}
            if not others:
                return ""
            stronger = max(others, key=others.get)
            gap = 100 * (self.mean["ssl"][j] - others[stronger])
            noise = 100 * max(self.std["ssl"][j], self.std[stronger][j])
            where = f"{k} per class" if k > 0 else "all labels"
            if abs(gap) <= noise:
                ties.append(where)
            else:
                (helps if gap > 0 else loses).append(f"{where} ({gap:+.1f} points against {words[stronger]})")
        parts = []
        if helps:
            parts.append("Pretraining helps at " + ", ".join(helps) + ".")
        if loses:
            parts.append(("It does not at " if helps else "Pretraining does not help at ") + ", ".join(loses) + ".")
        if ties:
            parts.append("At " + ", ".join(ties) + " the difference is within the spread between seeds.")
        return " ".join(parts)


def holdout(labels: np.ndarray, seed: int, splits: Sequence[str | None] | None = None,
            test_fraction: float = TEST_FRACTION,
            groups: Sequence[str] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(each class's shuffled training pool, test indices).

    `groups` keeps samples of one source (the segments of a recording) on one side: whole groups are
    held out. Classes with a single sample (or group) cannot be tested and are left out."""
    rng = np.random.default_rng(seed)
    pools, test = {}, []
    use_splits = splits is not None and any(splits)
    for cls in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == cls)
        if use_splits:
            in_test = np.array([splits[i] == "test" for i in members])
            pool, held = members[np.array([splits[i] == "train" for i in members])], members[in_test]
        elif groups is not None:
            held, pool = _held_groups(members, np.asarray(groups)[members], test_fraction, rng)
        else:
            if len(members) < 2:
                continue
            shuffled = rng.permutation(members)
            n_test = max(1, math.ceil(test_fraction * len(members)))
            held, pool = shuffled[:n_test], shuffled[n_test:]
        if len(pool):
            pools[cls] = rng.permutation(pool)
            test.extend(held.tolist())
    if len(pools) < 2 or not test:
        raise UserError("a label-efficiency curve needs at least two classes with two or more labelled samples each")
    return pools, np.array(sorted(test), dtype=np.int64)


def _held_groups(members: np.ndarray, member_groups: np.ndarray, test_fraction: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(held-out members, pool members): whole groups, shuffled, held out until test_fraction is reached."""
    names = rng.permutation(np.unique(member_groups))
    if len(names) < 2:
        return members[:0], members[:0]
    wanted, held_names = max(1, math.ceil(test_fraction * len(members))), []
    for name in names[:-1]:  # at least one group stays in the pool
        held_names.append(name)
        if np.isin(member_groups, held_names).sum() >= wanted:
            break
    in_test = np.isin(member_groups, held_names)
    return rng.permutation(members[in_test]), members[~in_test]


def evaluation_rows(labels: np.ndarray, max_samples: int, seed: int = 0) -> np.ndarray:
    """The labelled rows an evaluation uses: all of them, or past `max_samples` (> 0) a stratified draw of that
    many, each class keeping its share (and at least two samples, so it can still be tested)."""
    labelled = np.flatnonzero(labels != "")
    if max_samples <= 0 or len(labelled) <= max_samples:
        return labelled
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in sorted(set(labels[labelled].tolist())):
        members = labelled[labels[labelled] == cls]
        share = max(min(2, len(members)), round(max_samples * len(members) / len(labelled)))
        chosen.append(rng.choice(members, min(share, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


def fit_cost(n_train: int, n_test: int) -> int:
    """A fit's share of the work, for progress and its ETA: a probe's time grows with the samples it learns
    from, and predicting the test rows costs about a tenth of that per row."""
    return max(1, n_train + n_test // 10)


def _percent(done: int, total: int) -> int:
    return 100 * done // max(total, 1)


CHECK_EVERY_S = 0.1


def answering(progress: Progress | None, done: int, call: Callable, *args):
    """call(*args), with `progress(done, 100)` asked every CHECK_EVERY_S meanwhile, so a cancel is answered
    within that time even inside one long library call (a probe's fit has no hook to stop it): the call goes on
    in its thread, unseen, and its result is dropped."""
    if progress is None:
        return call(*args)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = call(*args)
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = error

    worker = threading.Thread(target=run, name="sslstudio-probe-fit", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(CHECK_EVERY_S)
        progress(done, 100)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def label_efficiency(features: Mapping[str, np.ndarray | Callable], labels: Sequence[str], shots: Sequence[int] = SHOTS,
                     seeds: Sequence[int] = (0, 1, 2), method: str = "linear",
                     splits: Sequence[str | None] | None = None,
                     progress: Progress | None = None,
                     groups: Sequence[str] | None = None,
                     on_point: Callable[[LabelCurve], None] | None = None) -> LabelCurve:
    """Mean and std accuracy over seeds at each K, for each named feature set (rows = samples, in label
    order), or for each named predictor `predict(train_rows, train_labels, test_rows, seed)`.

    The points are measured from the fewest labels up, every seed and feature set of one K before the next
    K, and `on_point(curve so far)` is called as each K is done: the cheap points show first."""
    labels = np.asarray(labels)
    draws = [holdout(labels, seed, splits, groups=groups) for seed in seeds]
    # Pool sizes do not depend on the seed; a K at or above the largest pool is the "all" point.
    largest_pool = max(len(pool) for pool in draws[0][0].values())
    shots = sorted({k for k in shots if 0 < k < largest_pool}) + [0]
    trains = [[np.sort(np.concatenate([pool if k <= 0 else pool[:k] for pool in pools.values()])) for k in shots]
              for pools, _ in draws]
    scores = {name: np.full((len(seeds), len(shots)), np.nan) for name in features}
    curve = LabelCurve([], seeds=tuple(seeds), method=method, n_test=len(draws[0][1]))
    total = len(features) * sum(fit_cost(len(train), len(test)) for (_, test), row in zip(draws, trains, strict=True)
                                for train in row)
    done = 0
    if progress is not None:  # in percent of the fits' estimated cost, which the ETA follows
        progress(0, 100)
    for j, k in enumerate(shots):
        for s, (_, test) in enumerate(draws):
            train = trains[s][j]
            for name, matrix in features.items():
                predicted = answering(progress, _percent(done, total), predict, matrix, labels, train, test,
                                      method, seeds[s])
                scores[name][s, j] = float((predicted == labels[test]).mean())
                done += fit_cost(len(train), len(test))
                if progress is not None:
                    progress(_percent(done, total), 100)
        curve.shots.append(k)
        curve.n_train.append(int(len(trains[0][j])))
        for name, table in scores.items():
            curve.mean[name] = [round(float(v), 4) for v in table[:, :j + 1].mean(axis=0)]
            curve.std[name] = [round(float(v), 4) for v in table[:, :j + 1].std(axis=0)]
        if on_point is not None and j < len(shots) - 1:
            on_point(copy.deepcopy(curve))
    return curve

"""`sslstudio --self-test`: every stage of the loop on the bundled demo data, each step checked.

Run on a fresh install, and by the installer build on the frozen app, it answers "does
this copy work on this machine?" It trains for a few steps only: it tests that the
stages run and give sane output, not that the model learns.
"""
from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sslstudio.core.demo import MODALITIES
from sslstudio.core.recipes import recommended
from sslstudio.resources import demo_folder

TRAIN_STEPS = 12


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: str


def run_checks(checks: list[tuple[str, Callable[[], str]]]) -> Iterator[StepResult]:
    """Run each check in turn; one that raises fails with its error, and the rest still run."""
    for name, check in checks:
        start = time.perf_counter()
        try:
            detail, ok = check(), True
        except Exception as error:  # noqa: BLE001 - a self-test reports every failure, it never stops at one
            detail, ok = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=4)}", False
        yield StepResult(name, ok, time.perf_counter() - start, detail)


def loop_checks(workdir: Path, modalities: list[str] | None = None) -> list[tuple[str, Callable[[], str]]]:
    """scan -> train -> embed -> probe for each modality; for images also the 2-D maps and the
    TorchScript and ONNX exports with their parity checks."""
    checks = []
    for modality in modalities or MODALITIES:
        state: dict = {}
        checks += [(f"{modality}: scan", lambda m=modality, s=state: _scan(m, s)),
                   (f"{modality}: train {recommended(modality, 'cpu').task}",
                    lambda m=modality, s=state: _train(m, s, workdir)),
                   (f"{modality}: embed", lambda s=state: _embed(s)),
                   (f"{modality}: probe", lambda s=state: _probe(s))]
        if modality == "image":
            checks.append(("image: map (PCA, t-SNE, UMAP)", lambda s=state: _map(s)))
            checks.append(("image: export TorchScript + ONNX", lambda s=state: _export(s, workdir)))
    return checks


def _need(state: dict, key: str):
    if key not in state:
        raise AssertionError("not run: an earlier step of this modality failed")
    return state[key]


def _scan(modality: str, state: dict) -> str:
    from sslstudio.core.data.scan import scan_folder

    scan = scan_folder(demo_folder(modality))
    files = scan.files.get(modality, [])
    if not files or not scan.looks_labelled(modality):
        raise AssertionError(f"the demo {modality} folder should hold labelled files, found {len(files)}")
    state["folder"] = scan.root
    return f"{len(files)} files in {len(set(scan.labels_of(modality)))} classes"


def _train(modality: str, state: dict, workdir: Path) -> str:
    from sslstudio.core.training.events import TrainingFailed
    from sslstudio.core.training.session import TrainRequest, load_run, train

    run_path = workdir / modality
    finished = train(TrainRequest(_need(state, "folder"), run_path, recipe=recommended(modality, "cpu").name,
                                  train_settings={"max_steps": TRAIN_STEPS, "batch_size": 16, "seed": 0,
                                                  "log_every": 4}))
    if isinstance(finished, TrainingFailed):
        raise AssertionError(finished.message)
    state["run"] = load_run(run_path)
    if finished.step < TRAIN_STEPS:
        raise AssertionError(f"stopped at step {finished.step} of {TRAIN_STEPS} ({finished.reason})")
    return f"{finished.step} steps ({finished.reason})"


def _embed(state: dict) -> str:
    import numpy as np

    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.embeddings.extract import compute_embeddings

    run = _need(state, "run")
    samples = load_folder(state["folder"], run.modality, labels="folders", spec=run.pipeline.spec)
    vectors = compute_embeddings(run, samples, device="cpu")
    if not np.isfinite(vectors).all() or float(vectors.std(axis=0).max()) == 0.0:
        raise AssertionError("the embeddings are not finite or do not vary between samples")
    state["samples"], state["vectors"] = samples, vectors
    return f"{vectors.shape[0]} x {vectors.shape[1]}"


def _map(state: dict) -> str:
    import numpy as np

    from sslstudio.core.embeddings.projection import project

    vectors = _need(state, "vectors")
    for method in ("pca", "tsne", "umap"):
        coords = project(vectors, method, cap=500).coords  # fits 500, places the rest with transform
        if coords.shape != (len(vectors), 2) or not np.isfinite(coords).all():
            raise AssertionError(f"{method} gave {coords.shape} coordinates, or some not finite")
    return f"{len(vectors)} points, 500 fitted and the rest placed"


def _probe(state: dict) -> str:
    from sslstudio.core.evaluation.probe import probe

    scores = probe(state["run"], _need(state, "samples"), per_class=5, method="linear", seed=0, device="cpu")
    chance = 1 / len(set(state["samples"].labels))
    if not 0.0 <= scores["accuracy"] <= 1.0:
        raise AssertionError(f"accuracy {scores['accuracy']} is not a fraction")
    return f"linear probe {scores['accuracy']:.2f} with 5 labels per class (chance {chance:.2f})"


def _export(state: dict, workdir: Path) -> str:
    from sslstudio.core.export import export

    run, samples = state["run"], _need(state, "samples")
    inputs = run.pipeline.export_raw(samples, range(16))
    worst = 0.0
    for fmt, name in (("torchscript", "model.pt"), ("onnx", "model.onnx")):
        report = export(run, workdir / name, fmt, inputs)
        if not report.passed:
            raise AssertionError(f"the {fmt} export disagrees with the app: {report.to_dict()}")
        worst = max(worst, report.max_abs_diff)
    return f"both match the app on {report.samples} samples, max abs difference {worst:.1e}"


def self_test(extra: list[tuple[str, Callable[[], str]]] = (), log: Callable[[str], None] = print,
              modalities: list[str] | None = None) -> bool:
    """Run the loop's checks and then `extra` ones; log a line per step; True when every step worked."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sslstudio-self-test-") as workdir:
        results = []
        for result in run_checks(loop_checks(Path(workdir), modalities) + list(extra)):
            results.append(result)
            log(f"{'ok  ' if result.ok else 'FAIL'} {result.name:<34} {result.seconds:6.1f} s  "
                + (result.detail if result.ok else "\n" + result.detail))
    failed = [r.name for r in results if not r.ok]
    seconds = time.perf_counter() - started
    log(f"self-test {'passed' if not failed else 'FAILED'}: {len(results) - len(failed)} of {len(results)} "
        f"steps worked in {seconds:.1f} s" + (f" (failed: {', '.join(failed)})" if failed else ""))
    return not failed

"""The whole loop on the bundled demo data: scan, train briefly, embed, probe with baselines.

This is what `sslstudio demo` prints and what a fresh install runs first; it is
also a smoke test that every stage works on this machine.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from sslstudio.resources import demo_folder

DEMO_TASKS = {"image": "rotation", "audio": "masked_spectrogram", "text": "mlm"}


def default_runs_folder() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "sslstudio" / "demo-runs"


def run_demo(modalities: list[str] | None = None, max_minutes: float = 0.5, out: str | None = None,
             log: Callable[[str], None] = print, seed: int = 0) -> list[dict]:
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.embeddings.extract import compute_embeddings, save_embeddings
    from sslstudio.core.evaluation.probe import probe
    from sslstudio.core.training.events import TrainingFailed
    from sslstudio.core.training.session import TrainRequest, load_run, train

    root = Path(out) if out else default_runs_folder()
    root.mkdir(parents=True, exist_ok=True)
    results = []
    for modality in modalities or list(DEMO_TASKS):
        folder = demo_folder(modality)
        run_path = Path(tempfile.mkdtemp(prefix=f"{modality}-", dir=root))
        log(f"[{modality}] training {DEMO_TASKS[modality]} on {folder.name} for {max_minutes} min -> {run_path}")
        request = TrainRequest(folder, run_path, DEMO_TASKS[modality],
                               train_settings={"max_minutes": max_minutes, "seed": seed,
                                               "batch_size": 64})
        finished = train(request)
        if isinstance(finished, TrainingFailed):
            raise RuntimeError(f"{modality} demo training failed: {finished.message}")
        run = load_run(run_path)
        samples = load_folder(folder, modality, labels="folders", spec=run.pipeline.spec)
        save_embeddings(run_path / "embeddings.npz", compute_embeddings(run, samples), samples)
        scores = probe(run, samples, per_class=10, method="linear", seed=seed, baselines=True)
        log(f"[{modality}] {finished.step} steps; linear probe {scores['accuracy']:.3f}, "
            f"random-init {scores['baselines']['random_init']:.3f}, raw {scores['baselines']['raw']:.3f}")
        results.append({"modality": modality, "task": DEMO_TASKS[modality], "run": str(run_path),
                        "steps": finished.step, "samples": len(samples), "probe": scores})
    return results

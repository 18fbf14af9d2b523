"""Every export reproduces the app. Target: max abs difference <= 1e-4 (fp32), top-1 agreement 100 % on 256 samples.

For each modality's demo data: a short run (20 steps), a linear probe head fitted on
10 labels per class, then TorchScript and ONNX exports of preprocessing + backbone +
head, each checked on 256 held-out samples (the check `sslstudio export` runs).
A fourth folder is the image demo with near-duplicates (every picture of the first
half once more exactly and once with one pixel changed), exported with and without
the head: nearest neighbours there are ties that last-bit rounding flips, and the
check must count them as near-ties, not disagreements.
Prints the differences (embeddings; logits against what the embeddings' difference
explains through the head), the agreement, the near-ties and the export times.
"""
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import report

TASKS = {"image": "rotation", "audio": "masked_spectrogram", "text": "mlm", "duplicates": "rotation"}


def with_duplicates(source: Path, dest: Path) -> Path:
    from PIL import Image

    shutil.copytree(source, dest)
    for class_dir in sorted(p for p in dest.iterdir() if p.is_dir()):
        files = sorted(class_dir.glob("*.png"))
        for original in files[:len(files) // 2]:
            shutil.copyfile(original, class_dir / f"{original.stem}-copy.png")
            pixels = np.array(Image.open(original))
            pixels.flat[0] = pixels.flat[0] + 1 if pixels.flat[0] < 255 else 254
            Image.fromarray(pixels).save(class_dir / f"{original.stem}-near.png")
    return dest


def main() -> None:
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.data.labels import few_shot_split
    from sslstudio.core.embeddings.extract import compute_embeddings
    from sslstudio.core.evaluation.classifiers import fit_linear
    from sslstudio.core.export import ProbeHead, export
    from sslstudio.core.training.session import TrainRequest, load_run, train
    from sslstudio.resources import demo_folder

    rows, worst_diff, worst_agreement, logits_ok, near_ties = [], 0.0, 1.0, True, 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, task in TASKS.items():
            folder = (with_duplicates(demo_folder("image"), Path(tmp) / "duplicated") if name == "duplicates"
                      else demo_folder(name))
            run_path = Path(tmp) / name
            train(TrainRequest(folder, run_path, task, train_settings={"max_steps": 20, "batch_size": 32}))
            run = load_run(run_path)
            samples = load_folder(folder, spec=run.pipeline.spec)
            labels = np.array(samples.labels)
            fit_rows, held = few_shot_split(labels, 10, seed=0)
            head = ProbeHead.from_sklearn(fit_linear(compute_embeddings(run, samples.subset(fit_rows)),
                                                     labels[fit_rows]))
            pool = held if len(held) >= 256 else np.arange(len(samples))  # the audio demo has 150 clips
            picked = np.random.default_rng(0).choice(pool, min(256, len(pool)), replace=False)
            check = run.pipeline.export_raw(samples, np.sort(picked))
            heads = (head, None) if name == "duplicates" else (head,)
            for fmt in ("torchscript", "onnx"):
                for with_head in heads:
                    t0 = time.perf_counter()
                    result = export(run, Path(tmp) / f"{name}.{fmt}", fmt, check, with_head)
                    seconds = time.perf_counter() - t0
                    worst_diff = max(worst_diff, result.max_abs_diff)
                    if with_head is not None:
                        logits_ok = logits_ok and result.logits_max_abs_diff <= result.logits_allowed
                        logits = (f"logits {result.logits_max_abs_diff:.1e} "
                                  f"(allowed {result.logits_allowed:.1e})")
                    else:
                        logits = "no head (neighbours)"
                    worst_agreement = min(worst_agreement, result.top1_agreement)
                    near_ties += result.near_ties
                    rows.append(f"{name:10s} {fmt:11s} embeddings max abs diff {result.max_abs_diff:.1e}, {logits}, "
                                f"{result.agreement_text()}, {result.samples} samples, {seconds:.1f} s")
    print("\n".join(rows))
    report("export_parity", "max abs difference <= 1e-4 and top-1 agreement 100 % on 256 samples",
           worst_diff <= 1e-4 and worst_agreement == 1.0 and logits_ok, worst_diff=float(f"{worst_diff:.2e}"),
           worst_top1_agreement=worst_agreement, near_ties=near_ties, exports=len(rows))


if __name__ == "__main__":
    main()

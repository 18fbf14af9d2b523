"""The Fine-tune step at real size: the default label-efficiency curve with every baseline, as Evaluate runs it.

Targets (issue 23, on this machine): 20k images <= 3 min, 100k images <= 10 min; Cancel answers within 2 s;
peak RSS <= 2 GB. The folder: generated 160x120 JPEGs in 20 classes (bench/_images.py), decoded once into the
sample store at 64 px before the clock starts (the Data step's work, measured in bench/store.py; the source
size matters only there). A 10-step SimCLR run of the CPU recipe's backbone (the small CNN) is evaluated cold:
nothing cached, so the run's own embeddings, a random-init copy's and the raw inputs are all computed.

The evaluation runs in a child process, as the Fine-tune page's job does (load_features, then evaluate_labels
with the default CurveSettings: shots 1 2 5 10 20 50 all, seeds 0 1 2, linear probe), which prints each phase's
time and its peak RSS (sampled every 50 ms). Then it evaluates again (the features are kept, as the page keeps
them) and cancels once the fits have run for 3 s: how long Cancel takes to answer.

    python bench/finetune_scale.py [--images 20000 100000] [--max-samples 10000]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import CACHE, REPO, report
from _images import generated_jpegs

TARGET_S = {20_000: 180, 100_000: 600}

CHILD = r"""
import json, os, sys, threading, time
sys.path.insert(0, {repo!r})

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

peak = [rss_mb()]
stop = threading.Event()
def watch():
    while not stop.wait(0.05):
        peak[0] = max(peak[0], rss_mb())
threading.Thread(target=watch, daemon=True).start()

from pathlib import Path
from sslstudio.core.errors import Cancelled
from sslstudio.core.evaluation.session import FeatureKey, evaluate_labels, load_features
from sslstudio.core.evaluation.settings import CurveSettings
from sslstudio.core.progress import Control, Phase

phases = []
started = time.perf_counter()
control = Control(partial=lambda value: phases.append((value.name, round(time.perf_counter() - started, 1)))
                  if isinstance(value, Phase) else None)
key = FeatureKey(Path({run!r}), None, Path({folder!r}), "image", None)
computed = load_features(key, control)
rows, curve, errors = evaluate_labels(computed, {{}}, CurveSettings(max_samples={max_samples}), control)
result = dict(curve=curve.to_dict(), seconds=time.perf_counter() - started, phases=phases, peak_rss_mb=peak[0])

# Cancel: evaluate again (the features are kept), and cancel once the fits have run for 3 s.
control = Control()
def cancel_later():
    time.sleep(3.0)
    result["cancel_asked"] = time.perf_counter()
    control.cancel()
threading.Thread(target=cancel_later, daemon=True).start()
try:
    evaluate_labels(computed, {{}}, CurveSettings(max_samples={max_samples}, seeds=tuple(range(30))), control)
    result["cancel_s"] = None
except Cancelled:
    result["cancel_s"] = time.perf_counter() - result.pop("cancel_asked")
stop.set()
print("RESULT " + json.dumps(result))
"""


def child(run: Path, folder: Path, env: dict, max_samples: int) -> dict:
    code = CHILD.format(repo=str(REPO), run=str(run), folder=str(folder), max_samples=max_samples)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    return json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])


def prepare(images: int, env: dict, scratch: Path) -> tuple[Path, Path]:
    folder = generated_jpegs(CACHE / f"jpeg20c_{images}", images, 160, 120, classes=20)
    run = scratch / f"run{images}"
    command = [sys.executable, "-m", "sslstudio"]
    subprocess.run([*command, "scan", str(folder), "--image-size", "64"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([*command, "train", str(folder), "--task", "simclr", "--image-size", "64", "--max-steps", "10",
                    "--batch-size", "64", "--checkpoint-minutes", "0", "--out", str(run)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return folder, run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--max-samples", type=int, default=10_000)
    args = parser.parse_args()
    figures, met = {}, True
    with tempfile.TemporaryDirectory(prefix="finetune-scale-") as scratch:
        env = {**os.environ, "SSLSTUDIO_STORE": str(Path(scratch) / "store"), "PYTHONPATH": str(REPO)}
        for images in args.images:
            folder, run = prepare(images, env, Path(scratch))
            whole = child(run, folder, env, args.max_samples)
            answer_s = whole["cancel_s"] if whole["cancel_s"] is not None else float("inf")
            steps = [f"{name} from {at:.0f} s" for name, at in whole["phases"]]
            curve = whole["curve"]
            print(f"{images:,} images: default curve with every baseline in {whole['seconds']:.0f} s "
                  f"(target {TARGET_S.get(images, '-')} s), peak RSS {whole['peak_rss_mb']:.0f} MB, Cancel answered "
                  f"in {answer_s:.2f} s; {curve['note'] or 'every labelled sample used'}")
            print("  phases: " + ", ".join(steps))
            print("  " + "  ".join(f"{name} {mean[-1]:.3f}" for name, mean in curve["mean"].items())
                  + " (all labels)")
            target = TARGET_S.get(images)
            ok = (target is None or whole["seconds"] <= target) and answer_s <= 2.0 \
                and whole["peak_rss_mb"] <= 2048
            met &= ok
            figures[f"{images}"] = {"seconds": round(whole["seconds"], 1), "target_s": target,
                                    "peak_rss_mb": round(whole["peak_rss_mb"]), "cancel_s": round(answer_s, 2),
                                    "used": curve["n_used"], "labelled": curve["n_labelled"]}
    report("finetune_scale", "default curve, every baseline: 20k <= 180 s, 100k <= 600 s; Cancel <= 2 s; "
           "RSS <= 2 GB", met, **figures)


if __name__ == "__main__":
    main()

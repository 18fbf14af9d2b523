"""Crash soak: training killed with -9 at random moments, checkpoint writes included, N times over.

A run on the bundled demo images writes a checkpoint after every step (--checkpoint-minutes 0); every
other kill waits for a checkpoint's temp file to appear and lands inside that write, the others at a
random moment. After each kill: every checkpoint on disk loads (checksums verified), the
metrics file parses (a line cut by the kill is the only one allowed to fail), and `--resume` continues
from the last checkpoint's step; once a resumed run trains, no temp file of a cut write remains. Last,
a disk that fills up (a tmpfs, where `unshare -rm` is allowed) must end the run in one line and keep
the previous checkpoint.

    python bench/crash_soak.py [--kills 10] [--seed 0]
"""
import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, report

TRAIN = [sys.executable, "-m", "sslstudio", "train", str(REPO / "resources" / "demo" / "image"), "--task", "rotation",
         "--batch-size", "16", "--epochs", "100000", "--checkpoint-minutes", "0"]


def check_run(run: Path) -> tuple[int, set]:
    """(step of last.pt, temp files left); raises if any checkpoint or metrics line is damaged."""
    from sslstudio.core.training.checkpoint import load_checkpoint
    from sslstudio.core.training.run_dir import RunDir

    run_dir = RunDir(run)
    for _, kept in run_dir.checkpoints():
        load_checkpoint(kept)
    step = int(load_checkpoint(run_dir.last_checkpoint)["progress"]["step"])
    lines = run_dir.metrics_path.read_text().splitlines() if run_dir.metrics_path.exists() else []
    for line in lines[:-1]:
        json.loads(line)  # only the last line may be cut by a kill
    return step, set((run / "checkpoints").glob(".*.tmp"))


def wait_for_training(process: subprocess.Popen, run: Path, after_step: int, timeout: float = 120) -> None:
    """Until the run has logged a step after `after_step` (so the process is past loading and resuming)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"training ended early: {process.stderr.read()[-2000:]}")
        metrics = run / "metrics.jsonl"
        if metrics.exists():
            steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()[:-1] if line.strip()]
            if steps and steps[-1] > after_step:
                return
        time.sleep(0.05)
    raise RuntimeError("training did not start")


def soak(run: Path, kills: int, rng: random.Random) -> dict:
    step, temp_files_seen, steps, stale = 0, 0, [], set()
    for kill in range(kills):
        process = subprocess.Popen(TRAIN + ["--out", str(run)] + (["--resume"] if kill else []),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_for_training(process, run, step)
        leftover = stale & set((run / "checkpoints").glob(".*.tmp"))  # the run's own current write aside
        assert not leftover, f"temp files of a killed write remain after resuming: {leftover}"
        if kill % 2:  # at a random moment
            time.sleep(rng.uniform(0.0, 2.0))
        else:  # inside a checkpoint write: as soon as its temp file is seen
            deadline = time.monotonic() + 20
            while not list((run / "checkpoints").glob(".*.tmp")) and time.monotonic() < deadline:
                pass
        process.kill()
        process.wait()
        new_step, stale = check_run(run)
        assert new_step >= step, f"the step count went back from {step} to {new_step}"
        step, temp_files_seen = new_step, temp_files_seen + bool(stale)
        steps.append(step)
        print(f"kill {kill + 1}: last checkpoint at step {step}, {len(stale)} temp file(s) of a cut write", flush=True)
    return {"kills": kills, "steps_at_kills": steps, "kills_inside_a_write": temp_files_seen}


def disk_full(tmp: Path) -> str:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"]).returncode != 0:
        return "not tried: unshare -rm is not allowed here"
    disk = tmp / "small-disk"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size=36m tmpfs {disk} && {' '.join(TRAIN)} --out {disk}/run --max-steps 50; "
              f"echo exit=$?; ls -a {disk}/run/checkpoints")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=600)
    message = [line for line in result.stderr.splitlines() if "training failed" in line]
    assert "exit=1" in result.stdout and message and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert ".tmp" not in result.stdout, result.stdout
    return message[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = soak(Path(tmp) / "run", args.kills, random.Random(args.seed))
        full = disk_full(Path(tmp))
    print(f"disk full: {full}")
    report("crash_soak", "every checkpoint loads after kill -9, resume continues, no temp files; disk full is one line",
           True, disk_full=full, **figures)


if __name__ == "__main__":
    main()

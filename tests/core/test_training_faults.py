"""Faults of the machine during a real run end in one plain message that says what to do and which checkpoint is
kept: a run folder that turns read-only, memory that runs out."""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest


def _can_drop_dac_override() -> bool:
    if shutil.which("setpriv") is None:
        return False
    return subprocess.run(DROP_DAC + ["true"], capture_output=True).returncode == 0


DROP_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps",
            "-dac_override,-dac_read_search"]  # so that root, too, is refused by a read-only folder
needs_setpriv = pytest.mark.skipif(not _can_drop_dac_override(), reason="needs setpriv to drop root's DAC override")

FREEZE_AFTER_STEP_3 = textwrap.dedent("""
    import sys
    from pathlib import Path
    from sslstudio.core.training.events import CheckpointSaved
    from sslstudio.core.training.session import TrainRequest, train

    folder, run = Path(sys.argv[1]), Path(sys.argv[2])

    def freeze(event):
        if isinstance(event, CheckpointSaved) and event.step == 3:  # the folder turns read-only mid-run
            for path in [run, *run.rglob("*")]:
                path.chmod(path.stat().st_mode & ~0o222)

    settings = {"max_steps": 6, "batch_size": 8, "log_every": 1, "checkpoint_minutes": 0.0}
    result = train(TrainRequest(folder, run, "rotation", train_settings=settings), [freeze])
    print(f"{type(result).__name__} at step {result.step}: {result.message}")
    print("traceback:", bool(getattr(result, "traceback", "")))
""")


@needs_setpriv
def test_a_run_folder_turning_read_only_mid_run_says_which_checkpoint_is_kept(tiny_images, tmp_path):
    run = tmp_path / "run"
    try:
        result = subprocess.run([*DROP_DAC, sys.executable, "-c", FREEZE_AFTER_STEP_3, str(tiny_images), str(run)],
                                capture_output=True, text=True, timeout=600)
    finally:
        for path in [run, *run.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert result.returncode == 0, result.stderr
    assert (f"TrainingFailed at step 4: Permission denied: {run / 'metrics.jsonl'}; training stopped and the "
            f"checkpoint of step 3 is kept") in result.stdout, result.stdout
    assert "traceback: False" in result.stdout  # the CLI prints no traceback after the line


RUN_OUT_OF_ADDRESS_SPACE = textwrap.dedent("""
    import resource, sys
    from pathlib import Path
    from sslstudio.core.training.session import TrainRequest, prepare, train

    request = TrainRequest(Path(sys.argv[1]), Path(sys.argv[2]), "rotation", inputs={"image_size": 64},
                           train_settings={"max_steps": 3, "batch_size": 32}, device="cpu")
    prepared = prepare(request)  # it fits the machine: the memory check passes
    with open("/proc/self/status") as f:
        size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize"))
    limit = size + (300 << 20)  # a step of 32 images at 64 px takes about 600 MB more
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    result = train(request, prepared=prepared)
    print(f"{type(result).__name__} at step {result.step}: {result.message}")
    print("traceback:", bool(getattr(result, "traceback", "")))
""")


@pytest.mark.skipif(sys.platform != "linux", reason="limits the address space with setrlimit")
def test_memory_running_out_during_a_step_is_one_line_naming_what_to_lower(tiny_images, tmp_path):
    env = {**os.environ, "MALLOC_ARENA_MAX": "2"}  # each thread's malloc arena reserves 64 MB of address space
    result = subprocess.run([sys.executable, "-c", RUN_OUT_OF_ADDRESS_SPACE, str(tiny_images), str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    assert ("TrainingFailed at step 0: out of memory on the cpu with batches of 32: lower --batch-size (to 16) or "
            "--image-size (to 32); training stopped and no earlier checkpoint of this run exists") in result.stdout, \
        result.stdout
    assert "traceback: False" in result.stdout

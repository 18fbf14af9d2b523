"""Launch to visible window, measured from a fresh interpreter. Target: <= 1.0 s, torch imported after the window.

Starts `python -c ...` that builds the workbench window, shows it and processes
events once; the parent times from spawn to the child's report. Best of 3, since
the first run also warms the disk cache. Also reports whether torch was loaded
before the window showed (it must not be).
"""
import json
import os
import subprocess
import sys
import time

from _common import REPO, report

CHILD = """
import json, sys, time
started = time.perf_counter()
from sslstudio.gui.app import create_application
app = create_application()
from sslstudio.gui.main_window import MainWindow
window = MainWindow()
window.show()
app.processEvents()
print(json.dumps({"in_process_s": time.perf_counter() - started, "torch_loaded": "torch" in sys.modules}), flush=True)
"""


def launch() -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=env, cwd=REPO)
    line = child.stdout.readline()
    wall = time.perf_counter() - started
    child.kill()
    child.wait()
    return {**json.loads(line), "wall_s": wall}


def main() -> None:
    runs = [launch() for _ in range(3)]
    best = min(runs, key=lambda r: r["wall_s"])
    for r in runs:
        print(f"launch to window {r['wall_s']:.2f} s (in process {r['in_process_s']:.2f} s), "
              f"torch loaded: {r['torch_loaded']}")
    report("startup", "launch to visible window <= 1.0 s, torch after the window",
           best["wall_s"] <= 1.0 and not any(r["torch_loaded"] for r in runs),
           launch_s=round(best["wall_s"], 3), in_process_s=round(best["in_process_s"], 3),
           platform=os.environ.get("QT_QPA_PLATFORM", "offscreen"))


if __name__ == "__main__":
    main()

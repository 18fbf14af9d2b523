"""Thumbnail grid over the full 70k-image Fashion-MNIST folder. Target: smooth scrolling, RSS <= 1.5 GB.

Opens the Data page on the recipe's 70,000 images, then scrolls the grid two ways:
- step by step: 200 jumps from top to bottom, painting after each one and waiting
  for the visible thumbnails to arrive (paint time, and how long pictures take);
- a fling: 300 small steps back to back with no waiting, so pictures are drawn on
  the render thread while the view paints (frame time under that contention).
Reports both, and the RSS at the end.
"""
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from _common import recipe, report  # noqa: E402

STEPS = 200
FLING_STEPS = 300


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    from PySide6.QtCore import QEventLoop

    from sslstudio.gui.app import create_application
    from sslstudio.gui.jobs import JobRunner
    from sslstudio.gui.panels.data_panel import DataPanel
    from sslstudio.gui.project_state import ProjectState

    folder = recipe("fashion_mnist_debian") / "labelled"
    app = create_application()
    jobs = JobRunner()
    panel = DataPanel(jobs, ProjectState())
    panel.resize(1280, 800)
    panel.show()
    loop = QEventLoop()
    panel.sig_folder_ready.connect(lambda *_: loop.quit())
    started = time.perf_counter()
    panel.open_folder(folder)
    loop.exec()
    scanned = time.perf_counter() - started
    bar = panel.grid.verticalScrollBar()
    paint_ms, arrive_ms = [], []
    for n in range(1, STEPS + 1):
        t0 = time.perf_counter()
        bar.setValue(bar.maximum() * n // STEPS)
        panel.grid.viewport().repaint()
        app.processEvents()
        paint_ms.append((time.perf_counter() - t0) * 1000)
        t1 = time.perf_counter()
        while panel.model._pending and time.perf_counter() - t1 < 2:  # visible thumbnails arriving
            app.processEvents()
        arrive_ms.append((time.perf_counter() - t1) * 1000)
    fling_ms = []
    for n in range(FLING_STEPS, 0, -1):  # back up towards the top, one small step per frame
        t0 = time.perf_counter()
        bar.setValue(bar.maximum() * n // FLING_STEPS)
        panel.grid.viewport().repaint()
        app.processEvents()
        fling_ms.append((time.perf_counter() - t0) * 1000)
    memory = rss_mb()
    p95 = statistics.quantiles(fling_ms, n=20)[-1]
    print(f"{panel.model.rowCount()} files listed in {scanned:.2f} s; scroll step paint median "
          f"{statistics.median(paint_ms):.1f} ms, max {max(paint_ms):.1f} ms; visible thumbnails ready after "
          f"median {statistics.median(arrive_ms):.0f} ms; fling frame median {statistics.median(fling_ms):.1f} ms, "
          f"p95 {p95:.1f} ms; RSS {memory:.0f} MB; {panel.model.cached_count()} cached")
    panel.shutdown()
    jobs.cancel_all()
    jobs.wait_all()
    report("thumbnails", "scrolling 70k images stays smooth (frame p95 <= 33 ms while flinging), RSS <= 1.5 GB",
           p95 <= 33 and memory <= 1536, paint_median_ms=round(statistics.median(paint_ms), 1),
           fling_median_ms=round(statistics.median(fling_ms), 1), fling_p95_ms=round(p95, 1),
           paint_max_ms=round(max(paint_ms), 1), paint_max_at_step=paint_ms.index(max(paint_ms)) + 1,
           thumbnails_ready_median_ms=round(statistics.median(arrive_ms)),
           rss_mb=round(memory), files=panel.model.rowCount())


if __name__ == "__main__":
    main()

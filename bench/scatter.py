"""The embedding scatter at scale. Targets: 100k points pan and zoom <= 33 ms a frame; hover lookup <= 5 ms.

Points: the 2-D PCA map of 100k vectors (bench/projection.py's Fashion-MNIST set),
coloured by class. Zooms in and pans across, repainting each frame; times hover
lookups at random screen positions; then reports what 1M points costs (the 100k
map tiled with jitter). The baseline in the same process is pyqtgraph's own
ScatterPlotItem at 100k with per-point colours, the usual way to draw this.
"""
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import numpy as np  # noqa: E402
from _common import report  # noqa: E402


def frames(app, view, steps=30):
    box = view.getPlotItem().getViewBox()
    timings = []
    for n in range(steps):
        t0 = time.perf_counter()
        if n < steps // 2:
            box.scaleBy((0.93, 0.93))
        else:
            box.translateBy(x=0.02 * box.viewRange()[0][1] - 0.02 * box.viewRange()[0][0])
        view.viewport().repaint()
        app.processEvents()
        timings.append((time.perf_counter() - t0) * 1000)
    return statistics.median(timings), max(timings)


def main() -> None:
    import pyqtgraph as pg
    from projection import fashion_pixels

    from sslstudio.core.embeddings.projection import project
    from sslstudio.gui.app import create_application
    from sslstudio.gui.widgets.scatter import ScatterView, palette

    app = create_application()
    pixels, labels = fashion_pixels()
    rng = np.random.default_rng(0)
    vectors = pixels @ rng.normal(size=(pixels.shape[1], 128)).astype(np.float32)
    vectors = np.vstack([vectors, vectors[:30_000] + rng.normal(scale=0.05, size=(30_000, 128)).astype(np.float32)])
    labels = np.concatenate([labels, labels[:30_000]])
    coords = project(vectors, "pca").coords
    classes, index = np.unique(labels, return_inverse=True)
    colours = palette(len(classes))[index]

    view = ScatterView()
    view.resize(1000, 750)
    view.show()
    view.set_points(coords, colours)
    app.processEvents()
    median, worst = frames(app, view)
    lookups = []
    for x, y in rng.uniform(50, 700, size=(200, 2)):
        t0 = time.perf_counter()
        view.row_at(view.mapToScene(int(x), int(y)))
        lookups.append((time.perf_counter() - t0) * 1000)
    hover = float(np.percentile(lookups, 99))

    million = np.vstack([coords + rng.normal(scale=0.01, size=coords.shape) for _ in range(10)])
    view.set_points(million, np.tile(colours, (10, 1)))
    app.processEvents()
    million_median, million_worst = frames(app, view, steps=10)

    baseline = pg.PlotWidget()
    baseline.resize(1000, 750)
    baseline.show()
    brushes = [pg.mkBrush(*c) for c in palette(len(classes))]
    baseline.addItem(pg.ScatterPlotItem(pos=coords, size=4, pen=None, brush=[brushes[i] for i in index]))
    app.processEvents()
    base_median, _ = frames(app, baseline, steps=10)
    print(f"100k points: frame median {median:.1f} ms, max {worst:.1f} ms (pyqtgraph ScatterPlotItem "
          f"{base_median:.1f} ms, ratio {base_median / median:.1f}x); hover lookup p99 {hover:.2f} ms; "
          f"1M points: frame median {million_median:.1f} ms, max {million_worst:.1f} ms")
    report("scatter", "100k points: frame <= 33 ms, hover <= 5 ms", median <= 33 and hover <= 5,
           frame_median_ms=round(median, 1), frame_max_ms=round(worst, 1), hover_p99_ms=round(hover, 2),
           baseline_scatterplotitem_ms=round(base_median, 1), speedup=round(base_median / median, 1),
           million_frame_median_ms=round(million_median, 1))
    os._exit(0)  # skip interpreter teardown of the pyqtgraph widgets (the app's exit path is tested elsewhere)


if __name__ == "__main__":
    main()

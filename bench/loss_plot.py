"""Loss-plot redraw with 100k logged steps. Target: <= 16 ms a redraw.

Fills the Train page's plots with 100k steps of metrics (as a long run would
log), then times a redraw that includes painting the plots to an image, the
same work the GUI timer triggers. Reports the median of 20 redraws, with the
cost at 1k steps as the baseline in the same process.
"""
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import numpy as np  # noqa: E402
from _common import report  # noqa: E402

from sslstudio.core.training.events import HealthMetrics, StepMetrics  # noqa: E402


def events(n: int) -> list:
    rng = np.random.default_rng(0)
    loss = 4 * np.exp(-np.arange(n) / (n / 5)) + rng.normal(0, 0.1, n)
    out = []
    for step in range(1, n + 1):
        out.append(StepMetrics(step, step // 100, n, float(loss[step - 1]), 1e-3, 500.0, 10.0, 0.01))
        out.append(HealthMetrics(step, 0.05, 0.06, 30.0, 448, 0.5 if step % 50 == 0 else None))
    return out


def redraw_ms(plots, app, n_events) -> float:
    plots.clear()
    plots.add_events(n_events)
    times = []
    for _ in range(20):
        plots.dirty = True
        started = time.perf_counter()
        plots.redraw()
        plots.canvas.grab()  # paint, as the screen would
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    from sslstudio.gui.app import create_application
    from sslstudio.gui.widgets.training_plots import TrainingPlots

    app = create_application()
    plots = TrainingPlots()
    plots.resize(1000, 600)
    plots.show()
    app.processEvents()
    small = redraw_ms(plots, app, events(1_000))
    big = redraw_ms(plots, app, events(100_000))
    print(f"redraw with 1k steps {small:.1f} ms, with 100k steps {big:.1f} ms (ratio {big / small:.2f})")
    report("loss_plot", "redraw <= 16 ms with 100k logged steps", big <= 16, redraw_ms_100k=round(big, 2),
           redraw_ms_1k=round(small, 2), ratio=round(big / small, 2))


if __name__ == "__main__":
    main()

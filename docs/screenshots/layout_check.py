"""Every page of the workbench at one window size, with real content, to check the layout by eye.

    xvfb-run -a -s "-screen 0 1400x900x24" env QT_QPA_PLATFORM=xcb python layout_check.py 1280 800 X
    xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb python layout_check.py 1920 1080 X
    xvfb-run -a -s "-screen 0 2600x1700x24" env QT_QPA_PLATFORM=xcb QT_SCALE_FACTOR=2 python layout_check.py 1280 800 X

Trains rotation on the bundled images for about twenty seconds: the Train page is shot at its first
logged point (one value per axis) and at the end. Takes about a minute; writes PNGs into the folder X.
"""
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(width: int, height: int, out: Path) -> None:
    from waiting import wait

    from sslstudio.gui.app import create_application
    from sslstudio.gui.main_window import MainWindow
    from sslstudio.resources import demo_folder

    out.mkdir(parents=True, exist_ok=True)
    app = create_application()
    window = MainWindow()
    runs = tempfile.TemporaryDirectory()
    window.state.runs_root = lambda: Path(runs.name)
    window.resize(width, height)
    window.show()
    window.open_initial(None, first_run_demo=False)
    scale = os.environ.get("QT_SCALE_FACTOR", "1")

    def shot(name):
        wait(400)
        path = out / f"{width}x{height}@{scale}x-{name}.png"
        window.grab().save(str(path))
        print("saved", path)

    window.data_panel.open_folder(demo_folder("image"))
    wait(signal=window.data_panel.sig_checked)
    shot("1-data")
    window.go_to_step(1)
    wait(until=lambda: window.task_panel.picker.catalogue)
    window.task_panel.picker.choose("rotation")
    wait(until=lambda: not window.task_panel.busy and window.task_panel.grid.cards)
    shot("2-task")
    window.go_to_step(2)
    panel = window.train_panel
    wait(until=lambda: panel.settings.backbone_box.count() > 0)
    panel.settings.form.set_values({"max_minutes": 0.3})
    panel.start()
    wait(until=lambda: panel.monitor.plots.series["loss"].n >= 1)
    shot("3-train-first-point")
    wait(60_000, signal=panel.sig_run_over)
    shot("4-train-finished")
    panel.monitor.tabs.setCurrentIndex(1)
    shot("5-train-live")
    window.go_to_step(3)
    window.embeddings_panel.extract_and_map()
    wait(signal=window.embeddings_panel.sig_mapped, limit_ms=300_000)
    window.embeddings_panel.open_sample(5)
    shot("6-embeddings")
    window.go_to_step(4)
    finetune = window.finetune_panel
    finetune.curve_form.set_values({"seeds": [0], "shots": [1, 5, 0]})
    finetune.evaluate()
    wait(signal=finetune.sig_evaluated, limit_ms=300_000)
    shot("7-finetune")
    window.state.dirty = False
    window.close()
    app.processEvents()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))

"""Screenshots of every page of the workbench, with real content, for the README.

    python docs/screenshots/take_screenshots.py            (offscreen)
    xvfb-run -a -s "-screen 0 1280x800x24" env QT_QPA_PLATFORM=xcb python docs/screenshots/take_screenshots.py

The window takes the size it opens at on a 1280x800 screen (its frame included), as a user's does.

Opens the bundled demo data, previews tasks, trains for about a minute on the
CPU and saves one PNG per page here. Takes about two minutes.
"""
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))


def main() -> None:
    import shutil

    from waiting import wait

    sys.path.insert(0, str(HERE.parent.parent / "bench"))
    from _images import SHAPES, picture

    from sslstudio.gui.app import create_application
    from sslstudio.gui.main_window import MainWindow
    from sslstudio.resources import demo_folder

    # The demo data is copied under a throw-away home, so the pictures show ~/demo/..., not this machine's paths.
    home = tempfile.TemporaryDirectory()
    os.environ["HOME"] = home.name
    shutil.copytree(demo_folder("image").parent, Path(home.name) / "demo", ignore=shutil.ignore_patterns("*.py"))

    def demo(modality):
        return Path(home.name) / "demo" / modality

    app = create_application()
    window = MainWindow()
    window.state.runs_root = lambda: Path(home.name) / "runs"  # shown as ~/runs/..., like the demo folder
    window.show()
    window.open_initial(None, first_run_demo=False)  # the device shows in the status bar

    def shot(name):
        app.processEvents()
        window.grab().save(str(HERE / f"{name}.png"))
        print("saved", name)

    def pick(task):
        wait(until=lambda: window.task_panel.picker.catalogue)
        window.task_panel.picker.choose(task)
        wait(until=lambda: not window.task_panel.busy and window.task_panel.grid.cards)

    for modality, task, row in (("audio", "audio_mae", 7), ("text", "word_context", 3), ("image", "dino", 12)):
        window.go_to_step(0)
        window.data_panel.open_folder(demo(modality))
        wait(signal=window.data_panel.sig_checked)
        window.data_panel.grid.setCurrentIndex(window.data_panel.model.index(row))
        wait(1500)  # thumbnails
        shot(f"data-{modality}")
        window.go_to_step(1)
        pick(task)
        shot(f"preview-{task}")
    photos = Path(home.name) / "photos"  # full-size pictures: the input settings propose a size and warn
    for index in range(120):
        folder = photos / SHAPES[index % len(SHAPES)]
        folder.mkdir(parents=True, exist_ok=True)
        picture(index, 640, 480).save(folder / f"{index:04d}.jpg", quality=90)
    window.go_to_step(0)
    window.data_panel.open_folder(photos)
    wait(signal=window.data_panel.sig_checked)
    window.go_to_step(1)
    pick("simclr")
    shot("preview-photos-inputs")
    window.data_panel.open_folder(demo("image"))
    wait(signal=window.data_panel.sig_checked)
    window.go_to_step(1)
    pick("mae")
    window.go_to_step(2)
    wait(until=lambda: window.train_panel.settings.backbone_box.count() > 0)
    window.train_panel.settings.form.set_values({"max_minutes": 1.0})
    window.train_panel.start()
    wait(70_000, signal=window.train_panel.sig_run_over)
    shot("train-curves")
    window.train_panel.monitor.tabs.setCurrentIndex(1)
    shot("train-live-outputs")
    window.go_to_step(3)
    panel = window.embeddings_panel
    panel.controls.map_form.set_values({"method": "tsne"})
    panel.extract_and_map()
    wait(signal=panel.sig_mapped, limit_ms=600_000)
    panel.open_sample(17)
    wait(500)
    shot("embeddings-map")
    window.go_to_step(4)
    finetune = window.finetune_panel
    finetune.curve_form.set_values({"seeds": [0, 1]})
    finetune.evaluate()
    wait(until=lambda: finetune.curve.plot.getPlotItem().listDataItems() or not finetune.work.busy)
    if finetune.work.busy:  # the first points, drawn while the rest are measured
        shot("finetune-measuring")
        wait(until=lambda: not finetune.work.busy, limit_ms=600_000)
    shot("finetune-curve")
    finetune.tabs.setCurrentIndex(1)
    shot("finetune-confusion")
    window.go_to_step(3)
    panel.scatter.select(np.arange(0, len(panel.session.coords), 3))
    panel.assign_selection("picked on the map")
    window.go_to_step(0)
    wait(1500)
    shot("data-app-labels")
    window.state.dirty = False
    window.close()


if __name__ == "__main__":
    main()

"""Presenter mode's pictures for the README: stills and an animated GIF of a run replayed on the demo images.

    xvfb-run -a -s "-screen 0 1280x720x24" env QT_QPA_PLATFORM=xcb python docs/screenshots/presenter.py [OUT]

Trains a short rotation run on the bundled demo images (a few CPU seconds, a checkpoint every few seconds),
opens the workbench in presenter mode replaying it, grabs the window every GRAB_MS while the curves grow and
the map's time-lapse plays, and writes presenter-curves.png, presenter-map.png and presenter.gif (OUT
defaults to this folder).
"""
import sys
import tempfile
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, QTimer

from sslstudio.core.training.session import TrainRequest, train
from sslstudio.gui.app import create_application, tear_down
from sslstudio.resources import demo_folder

GRAB_MS = 250
GIF_WIDTH = 800


def grab(window) -> Image.Image:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    window.grab().save(buffer, "PNG")
    from io import BytesIO

    return Image.open(BytesIO(bytes(buffer.data()))).convert("RGB")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
    runs = Path(tempfile.mkdtemp(prefix="sslstudio-presenter-"))
    run = runs / "rotation-demo"
    train(TrainRequest(demo_folder("image"), run, "rotation",
                       train_settings={"max_steps": 80, "batch_size": 64, "log_every": 2, "checkpoint_minutes": 0.03,
                                       "seed": 0}))
    app = create_application()
    from sslstudio.gui.main_window import MainWindow  # after the QApplication

    window = MainWindow()
    window.state.runs_root = lambda: runs
    window.show()
    frames: list[Image.Image] = []
    replay = window.present(run, seconds=8.0)
    stills = {}

    def take() -> None:
        frames.append(grab(window))
        page = window.stack.currentIndex()
        if page == 2 and replay.shown >= replay.story.last_step * 0.7:
            stills.setdefault("curves", frames[-1])

    timer = QTimer(interval=GRAB_MS, timeout=take)
    timer.start()

    def finished() -> None:
        take()
        stills["map"] = frames[-1]
        timer.stop()
        window.state.dirty = False
        app.quit()

    replay.sig_finished.connect(finished)
    QTimer.singleShot(600_000, app.quit)
    app.exec()
    tear_down(window)
    stills.get("curves", frames[len(frames) // 2]).save(out / "presenter-curves.png")
    stills["map"].save(out / "presenter-map.png")
    small = [frame.resize((GIF_WIDTH, round(frame.height * GIF_WIDTH / frame.width)), Image.LANCZOS)
             .quantize(colors=64, method=Image.Quantize.MEDIANCUT) for frame in frames[::2]]
    small[0].save(out / "presenter.gif", save_all=True, append_images=small[1:], duration=GRAB_MS * 2, loop=0,
                  optimize=True)
    print(f"wrote presenter-curves.png, presenter-map.png and presenter.gif ({len(small)} frames) in {out}")


if __name__ == "__main__":
    main()

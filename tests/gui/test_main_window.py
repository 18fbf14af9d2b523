import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from sslstudio.core.project import load_project
from sslstudio.gui.main_window import STEPS, MainWindow


@pytest.fixture
def window(qtbot, no_questions):
    win = MainWindow()
    qtbot.addWidget(win)  # closed at teardown: closeEvent cancels and waits for every job
    win.show()
    return win


def step_enabled(win, key):
    row = [k for k, _ in STEPS].index(key)
    return bool(win.step_list.item(row).flags() & Qt.ItemFlag.ItemIsEnabled)


def test_steps_open_up_as_their_inputs_appear(qtbot, window, tiny_images):
    assert step_enabled(window, "data") and not step_enabled(window, "task")
    with qtbot.waitSignal(window.data_panel.sig_checked, timeout=30_000):
        window.data_panel.open_folder(tiny_images)
    assert step_enabled(window, "task")
    qtbot.waitUntil(lambda: step_enabled(window, "train"), timeout=30_000)  # once the tasks are listed
    assert not step_enabled(window, "embeddings")  # needs a run
    assert window.state.dirty and window.windowTitle().startswith("Untitled project *")
    window.go_to_step(4)  # disabled: stays where it is
    assert window.stack.currentIndex() == 0


def test_project_save_and_reopen(qtbot, window, tiny_images, tmp_path):
    with qtbot.waitSignal(window.data_panel.sig_checked, timeout=30_000):
        window.data_panel.open_folder(tiny_images)
    assert window._write(tmp_path / "work")
    saved = tmp_path / "work.sslproj"
    assert load_project(saved).folder == str(tiny_images) and not window.state.dirty
    window.new_project()
    assert window.state.project.folder is None and window.data_panel.model.rowCount() == 0
    with qtbot.waitSignal(window.data_panel.sig_folder_ready, timeout=10_000):
        assert window.open_project(saved)
    assert window.state.path == saved and window.windowTitle().startswith("work.sslproj —")
    assert not window.state.dirty  # reopening the same folder is not a change


def test_input_settings_belong_to_their_folder(qtbot, window, tiny_images, tmp_path):
    from tests.conftest import make_images

    with qtbot.waitSignal(window.task_panel.sig_inputs_changed, timeout=30_000):
        window.data_panel.open_folder(tiny_images)
    assert window.state.project.inputs == {"image_size": 32}
    window.task_panel.input_settings.form.editors["image_size"].setValue(48)
    qtbot.waitUntil(lambda: window.state.project.inputs == {"image_size": 48}, timeout=10_000)
    sprites = make_images(tmp_path / "sprites", 12, size=(72, 80))
    with qtbot.waitSignal(window.task_panel.sig_inputs_changed, timeout=30_000) as proposed:
        window.data_panel.open_folder(sprites)
    assert proposed.args[0] == {"image_size": 64} == window.state.project.inputs  # proposed again, not carried over
    qtbot.waitUntil(lambda: window.data_panel.check_job is None, timeout=30_000)


def test_a_broken_project_file_is_a_message(window, tmp_path, monkeypatch):
    bad = tmp_path / "bad.sslproj"
    bad.write_text("{")
    shown = []
    monkeypatch.setattr("sslstudio.gui.main_window.show_error", lambda parent, message, details="":
                        shown.append(message))
    assert not window.open_project(bad)
    assert "not a readable sslstudio project" in shown[0]


def test_dropping_a_folder_opens_it(qtbot, window, tiny_text):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tiny_text))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.data_panel.sig_folder_ready, timeout=10_000) as ready:
        window.dropEvent(event)
    assert ready.args == [str(tiny_text), "text"]


def test_about_lists_the_versions():
    from sslstudio.gui.about import about_text

    text = about_text()
    assert "PySide6" in text and "torch" in text and "Python" in text


def test_an_exception_in_a_slot_reaches_the_error_dialog(qtbot, window):
    from PySide6.QtCore import QTimer

    from sslstudio.gui.errors import ErrorDialog, ExceptionHook

    hook = ExceptionHook(window, modal=False)
    hook.install()
    try:
        def broken_slot():
            raise RuntimeError("a bug in a slot")

        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: hook.last is not None, timeout=5000)
    finally:
        hook.uninstall()
    message, details = hook.last
    assert message == "RuntimeError: a bug in a slot" and "broken_slot" in details
    dialog = hook.dialogs[-1]
    assert isinstance(dialog, ErrorDialog) and dialog.isVisible()
    dialog.copy()
    from PySide6.QtGui import QGuiApplication

    assert "a bug in a slot" in QGuiApplication.clipboard().text()
    dialog.close()
    assert window.isVisible()  # the app carries on


def test_the_app_exits_cleanly_with_audio_and_training_plots_open(tmp_path):
    # PySide6 with pyqtgraph has crashed at interpreter exit; this runs the real exit path.
    script = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QTimer
        from sslstudio.gui.app import create_application
        from sslstudio.gui.main_window import MainWindow
        from sslstudio.resources import demo_folder
        app = create_application()
        window = MainWindow()
        window.show()
        job = window.data_panel.open_folder(demo_folder("audio"))
        def pick():
            window.data_panel.grid.setCurrentIndex(window.data_panel.model.index(0))
            from sslstudio.core.training.events import HealthMetrics, StepMetrics
            window.train_panel.monitor.plots.add_events([StepMetrics(1, 0, 9, 1.0, 1e-3, 9.0, 1.0, 0.0),
                                                 HealthMetrics(1, 0.1, 0.1, 3.0, 8, 0.5)])
            window.train_panel.monitor.plots.redraw()
            window.state.dirty = False
            QTimer.singleShot(200, window.close)
        window.data_panel.sig_folder_ready.connect(lambda *a: QTimer.singleShot(100, pick))
        sys.exit(app.exec())
    """)
    env = {"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "QThread: Destroyed" not in done.stderr


def test_the_window_shows_before_torch_is_imported():
    script = ("import sys; from sslstudio.gui.app import create_application; app = create_application(); "
              "from sslstudio.gui.main_window import MainWindow; w = MainWindow(); w.show(); app.processEvents(); "
              "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "False", done.stderr[-2000:]


@pytest.mark.parametrize("module", ["data_panel", "task_panel", "train_panel", "embeddings_panel", "finetune_panel"])
def test_every_panel_runs_alone(module, tmp_path):
    done = subprocess.run([sys.executable, "-m", f"sslstudio.gui.panels.{module}"], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2],
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "SSLSTUDIO_QUIT_AFTER_MS": "1500"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


DAMAGED_PROJECTS = {
    "nested": "[" * 100_000 + "]" * 100_000,
    "folder-number": {"folder": 123},
    "runs-text": {"runs": "x"},
    "run-without-path": {"runs": [{"task": "rotation"}]},
    "labels-list": {"labels": []},
    "task-args-list": {"task_args": []},
}


@pytest.mark.parametrize("name", DAMAGED_PROJECTS)
def test_each_damaged_project_is_a_plain_message_and_the_window_still_works(qtbot, window, tiny_images, tmp_path,
                                                                         monkeypatch, name):
    import json

    content = DAMAGED_PROJECTS[name]
    path = tmp_path / f"{name}.sslproj"
    path.write_text(content if isinstance(content, str) else json.dumps(
        {"format": "sslstudio-project", "version": 2, **content}))
    shown = []
    monkeypatch.setattr("sslstudio.gui.main_window.show_error", lambda parent, message, details="":
                        shown.append((message, details)))
    assert not window.open_project(path)
    [(message, details)] = shown
    assert "sslstudio project" in message and not details  # a plain message, no traceback
    assert window.state.project.folder is None and window.state.path is None
    with qtbot.waitSignal(window.data_panel.sig_checked, timeout=30_000):  # and the window still works
        window.data_panel.open_folder(tiny_images)


def test_a_task_setting_of_the_wrong_type_is_named_and_the_rest_apply(qtbot, window, tiny_images, tmp_path,
                                                                    monkeypatch):
    import json

    path = tmp_path / "shift.sslproj"
    path.write_text(json.dumps({"format": "sslstudio-project", "version": 2, "folder": str(tiny_images),
                                "modality": "image", "task": "rotation",
                                "task_args": {"shift": "lots", "flip": False}}))
    shown = []
    monkeypatch.setattr("sslstudio.gui.errors.QMessageBox.warning", lambda parent, title, message:
                        shown.append(message))
    assert window.open_project(path)
    qtbot.waitUntil(lambda: window.task_panel.current_task() == "rotation", timeout=30_000)
    assert len(shown) == 1 and "task_args" in shown[0] and "'shift'" in shown[0]
    defaults = {f["name"]: f["default"] for f in window.task_panel.form.schema}
    assert window.task_panel.form.values()["shift"] == defaults["shift"]
    assert window.task_panel.form.values()["flip"] is False  # the valid setting still applies


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("presenting", [False, True], ids=["desktop", "presenter"])
def test_the_window_fits_a_1280x800_screen_with_its_frame(qtbot, window, tiny_images, theme, presenting):
    from sslstudio.gui.app import apply_theme
    from sslstudio.gui.main_window import FRAME_ALLOWANCE, SMALLEST_SCREEN

    apply_theme(theme)
    try:
        with qtbot.waitSignal(window.data_panel.sig_checked, timeout=30_000):
            window.data_panel.open_folder(tiny_images)  # pages with their content, not empty
        qtbot.waitUntil(lambda: bool(window.task_panel.picker.catalogue), timeout=30_000)
        window.go_to_step(2)
        window.presenter.set_on(presenting)
        room = SMALLEST_SCREEN - FRAME_ALLOWANCE
        needed = window.minimumSizeHint()
        assert needed.width() <= room.width() and needed.height() <= room.height(), needed
        if not presenting:  # full screen in presenter mode: the screen's size, with no frame
            assert window.size().width() <= room.width() and window.size().height() <= room.height()
    finally:
        window.presenter.set_on(False)
        apply_theme("system")


def test_the_input_estimate_reads_a_batch_of_the_train_pages_size(qtbot, window, tiny_images):
    with qtbot.waitSignal(window.task_panel.sig_inputs_changed, timeout=30_000):
        window.data_panel.open_folder(tiny_images)
    estimate = window.task_panel.input_settings.estimate
    assert "A training batch of 64 reads" in estimate.text()  # the Train page's default, not another
    window.train_panel.settings.form.editors["batch_size"].setValue(32)
    assert "A training batch of 32 reads" in estimate.text()


def test_the_task_list_is_not_cut_on_the_right(qtbot, window, tiny_images):
    with qtbot.waitSignal(window.data_panel.sig_checked, timeout=30_000):
        window.data_panel.open_folder(tiny_images)
    qtbot.waitUntil(lambda: bool(window.task_panel.picker.catalogue), timeout=30_000)
    window.go_to_step(1)
    tasks = window.task_panel.picker.task_list
    qtbot.waitUntil(lambda: tasks.isVisible(), timeout=5000)
    assert tasks.horizontalScrollBar().maximum() == 0  # each task's line is whole: wrapped where it must
    widest = max(tasks.visualItemRect(tasks.item(row)).right() for row in range(tasks.count()))
    assert widest <= tasks.viewport().width()

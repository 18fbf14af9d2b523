"""GUI tests: offscreen Qt, settings in a temp folder, no job thread outliving its test, no modal error dialog."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(folder))
    QSettings("sslstudio", "sslstudio").clear()
    yield


_LEAKED_THREADS = []  # kept referenced: destroying a QThread that still runs aborts the process


@pytest.fixture(autouse=True)
def no_leaked_threads(qapp, monkeypatch):
    """Every QThread started during the test has stopped by its end, or the test fails and says where the
    thread was started (napari's dangling_qthreads patches QThread.start the same way)."""
    import traceback

    from PySide6.QtCore import QThread

    started = []
    original = QThread.start

    def start(thread, *args):
        started.append((thread, "".join(traceback.format_stack(limit=8)[:-1])))
        original(thread, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield
    leaked = []
    for thread, where in started:
        try:
            if thread.isRunning() and not thread.wait(5000):
                leaked.append(f"{thread.objectName() or 'a thread'} started at\n{where}")
                _LEAKED_THREADS.append(thread)
        except RuntimeError:  # its Qt object is already deleted, so its thread is gone too
            pass
    assert not leaked, "threads still running after the test:\n" + "\n".join(leaked)


@pytest.fixture
def no_questions(monkeypatch):
    """Stop training when asked, and discard unsaved projects, as a user in a hurry would."""
    from PySide6.QtWidgets import QMessageBox

    asked = []

    def answer(parent, title, *args, **kwargs):
        asked.append(title)
        return QMessageBox.StandardButton.Yes if "running" in title else QMessageBox.StandardButton.Discard

    monkeypatch.setattr(QMessageBox, "question", answer)
    return asked


@pytest.fixture(autouse=True)
def modal_error_dialogs_fail_the_test(monkeypatch):
    """A modal error dialog would wait for a click that never comes, and the suite would hang; record
    it instead, and fail the test with its message and traceback."""
    from sslstudio.gui.errors import ErrorDialog

    shown = []
    monkeypatch.setattr(ErrorDialog, "exec", lambda dialog: shown.append(dialog.details.toPlainText()) or 0)
    yield
    assert not shown, "an error dialog opened:\n" + "\n---\n".join(shown)

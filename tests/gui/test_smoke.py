"""The self-test's window step opens the real workbench and closes it."""
from sslstudio.gui.smoke import open_and_close_window


def test_the_window_step_shows_the_workbench(qapp):
    assert "offscreen platform" in open_and_close_window()
    assert not [w for w in qapp.topLevelWidgets() if w.isVisible()]

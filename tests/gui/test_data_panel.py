import shutil

import pytest
from PySide6.QtCore import QPoint, Qt

from sslstudio.gui.jobs import JobRunner
from sslstudio.gui.panels.data_panel import DataPanel
from sslstudio.gui.project_state import ProjectState


@pytest.fixture
def panel(qtbot):
    jobs = JobRunner()
    widget = DataPanel(jobs, ProjectState())
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    yield widget
    widget.shutdown()
    assert jobs.wait_all(10_000)
    qtbot.waitUntil(lambda: not jobs.jobs, timeout=5000)


def open_and_check(qtbot, panel, folder, modality=None):
    with qtbot.waitSignal(panel.sig_checked, timeout=30_000) as checked:
        panel.open_folder(folder, modality)
    return checked.args[0]


def test_folder_is_scanned_checked_and_shown(qtbot, panel, tiny_images):
    (tiny_images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\ncut short")
    (tiny_images / "empty").mkdir()
    (tiny_images / "dangling.png").symlink_to(tiny_images / "missing.png")
    with qtbot.waitSignal(panel.sig_folder_ready, timeout=10_000) as ready:
        checked = qtbot.waitSignal(panel.sig_checked, timeout=30_000)
        with checked:
            panel.open_folder(tiny_images)
    assert ready.args == [str(tiny_images), "image"]
    assert checked.args == [1]  # broken.png fails to decode
    assert panel.model.rowCount() == 4 * 12 + 1  # the broken PNG is listed; the dangling link is not
    bad = {panel.bad_list.topLevelItem(i).text(0): panel.bad_list.topLevelItem(i).text(1)
           for i in range(panel.bad_list.topLevelItemCount())}
    assert set(bad) == {"broken.png", "dangling.png"}
    assert "broken symbolic link" in bad["dangling.png"]
    assert panel.tabs.tabText(2) == "Bad files (2)"
    summary = panel.summary.topLevelItem(0)
    assert (summary.text(0), summary.text(1), summary.childCount()) == ("image", "49", 0)  # top-level file: no labels
    qtbot.waitUntil(lambda: panel.model.cached_count() > 0, timeout=10_000)  # thumbnails arrive off-thread


def test_labelled_folder_lists_classes_and_a_click_shows_the_sample(qtbot, panel, tiny_images):
    assert open_and_check(qtbot, panel, tiny_images) == 0
    summary = panel.summary.topLevelItem(0)
    assert summary.childCount() == 4 and summary.child(0).text(1) == "12"
    panel.grid.setCurrentIndex(panel.model.index(13))
    assert "12 ×" not in panel.viewer.title.text()
    assert "28 × 28 px" in panel.viewer.title.text() and "label <b>" in panel.viewer.title.text()


def test_labels_made_in_the_app_show_on_the_grid_and_in_the_viewer(qtbot, panel, tiny_images):
    open_and_check(qtbot, panel, tiny_images)
    row = 13
    relpath = panel.model.relpaths[row]
    qtbot.waitUntil(lambda: panel.model.cached_count() > row, timeout=10_000)
    rect = panel.grid.visualRect(panel.model.index(row))
    corner = rect.topLeft() + QPoint(8, 9)  # where the badge goes

    def pixel():
        panel.grid.viewport().repaint()
        return panel.grid.viewport().grab().toImage().pixelColor(corner)

    before = pixel()
    panel.state.set_labels({relpath: "boots"})
    after = pixel()
    assert (after.red(), after.green(), after.blue()) != (before.red(), before.green(), before.blue())
    assert after.red() > after.blue() + 60  # the badge's orange
    assert "labelled in the app: boots" in panel.model.data(panel.model.index(row), Qt.ItemDataRole.ToolTipRole)
    panel.grid.setCurrentIndex(panel.model.index(row))
    assert "label <b>boots</b>" in panel.viewer.title.text()
    assert panel.summary.topLevelItem(0).text(0) == "labelled in the app"


@pytest.mark.parametrize("modality", ["audio", "text"])
def test_audio_and_text_samples_open_in_the_viewer(qtbot, panel, modality, tiny_audio, tiny_text):
    folder = tiny_audio if modality == "audio" else tiny_text
    open_and_check(qtbot, panel, folder)
    panel.grid.setCurrentIndex(panel.model.index(0))
    title = panel.viewer.title.text()
    assert (" s at " in title) if modality == "audio" else ("words shown" in title)
    qtbot.waitUntil(lambda: panel.model.cached_count() > 0, timeout=10_000)


def test_mixed_folder_offers_a_choice(qtbot, panel, tmp_path, tiny_images, tiny_text):
    mixed = tmp_path / "mixed"
    shutil.copytree(tiny_images, mixed / "pictures")
    shutil.copytree(tiny_text, mixed / "notes")
    open_and_check(qtbot, panel, mixed)
    assert not panel.bar.modality_box.isHidden()
    assert [panel.bar.modality_box.itemData(i) for i in range(panel.bar.modality_box.count())] == ["image", "text"]
    assert panel.modality == "text"  # the larger part is chosen first (60 texts, 48 images)
    with qtbot.waitSignal(panel.sig_folder_ready, timeout=10_000) as ready:
        panel.bar.modality_box.setCurrentIndex(0)
    assert ready.args == [str(mixed), "image"] and panel.model.rowCount() == 48


def test_a_missing_folder_is_a_message_not_a_crash(qtbot, panel, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("sslstudio.gui.panels.data_panel.show_error", lambda parent, message, details="":
                        shown.append((message, details)))
    job = panel.open_folder(tmp_path / "nowhere")
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert "folder not found" in shown[0][0] and shown[0][1] == ""
    assert job.wait(5000)


def test_cancel_stops_the_check(qtbot, panel, tiny_images):
    with qtbot.waitSignal(panel.sig_folder_ready, timeout=10_000):
        panel.open_folder(tiny_images)
    job = panel.check_job
    if job is not None:
        with qtbot.waitSignal(job.sig_over, timeout=10_000):
            panel.bar.cancel_button.click()
    assert panel.bar.progress.isHidden()


@pytest.mark.parametrize("modality,name", [("image", "a.png"), ("text", "a.txt"), ("audio", "a.wav")])
def test_thumbnails_are_drawn_at_the_screens_pixel_ratio(qapp, tmp_path, tiny_images, tiny_text, tiny_audio,
                                                         modality, name):
    from sslstudio.gui.widgets.thumbnails import THUMB, render_thumbnail

    folder = {"image": tiny_images, "text": tiny_text, "audio": tiny_audio}[modality]
    path = next(p for p in sorted(folder.rglob("*")) if p.is_file())
    sharp = render_thumbnail(path, modality, ratio=2.0)
    assert sharp.devicePixelRatio() == 2.0
    assert max(sharp.width(), sharp.height()) == 2 * THUMB  # twice the pixels, same size on screen
    assert max(sharp.deviceIndependentSize().width(), sharp.deviceIndependentSize().height()) == THUMB
    broken = tmp_path / name
    broken.write_bytes(b"not really")
    tile = render_thumbnail(broken, modality, ratio=2.0)
    assert tile.width() == 2 * THUMB and tile.devicePixelRatio() == 2.0


def test_the_store_build_says_decoding_n_of_m_with_an_eta_on_one_line(qtbot):
    import time

    from sslstudio.gui.widgets.folder_bar import FolderBar

    bar = FolderBar()
    qtbot.addWidget(bar)
    bar.resize(900, 40)
    bar.show()
    bar.show_count(20_000, "decoding")
    assert bar.progress.format() == "decoding 0 of 20,000"
    bar._counting = ("decoding", time.monotonic() - 10)  # ten seconds in, at 100 files a second
    bar.step(1000, 20_000)
    assert bar.progress.format() == "decoding 1,000 of 20,000, ETA 3:10"
    bar.progress.setFixedWidth(120)  # a narrow bar (presenter type): one elided line, the whole text in the tip
    bar.step(1000, 20_000)
    shown = bar.progress.format()
    assert shown.endswith("…") and bar.progress.fontMetrics().horizontalAdvance(shown) <= 120
    assert bar.progress.toolTip() == "decoding 1,000 of 20,000, ETA 3:10"

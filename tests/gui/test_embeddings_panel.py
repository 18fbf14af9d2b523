"""The Embeddings step on a real trained run: extract -> map -> hover -> click -> neighbours -> select -> label."""
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from sslstudio.core.training.session import TrainRequest, train
from sslstudio.gui.jobs import JobRunner
from sslstudio.gui.panels.embeddings_panel import EmbeddingsPanel
from sslstudio.gui.project_state import ProjectState


@pytest.fixture
def run(tiny_images, tmp_path):
    path = tmp_path / "run"
    train(TrainRequest(tiny_images, path, "rotation",
                       train_settings={"max_steps": 4, "batch_size": 8, "checkpoint_minutes": 0.0, "log_every": 2}))
    return path


@pytest.fixture
def open_panel(qtbot):
    """open_panel(folder, modality, run): the page shown on a run, shut down after the test."""
    opened = []

    def make(folder, modality, run):
        jobs = JobRunner()
        widget = EmbeddingsPanel(jobs, ProjectState.for_folder(folder, modality, runs=[run]))
        qtbot.addWidget(widget)
        widget.resize(1300, 800)
        widget.show()
        opened.append((widget, jobs))
        return widget

    yield make
    for widget, jobs in opened:
        widget.shutdown()
        assert jobs.wait_all(10_000)


@pytest.fixture
def panel(open_panel, tiny_images, run):
    return open_panel(tiny_images, "image", run)


def mapped(qtbot, panel):
    with qtbot.waitSignal(panel.sig_mapped, timeout=60_000) as done:
        panel.extract_and_map()
    qtbot.waitUntil(lambda: not panel.work.busy, timeout=10_000)
    return done.args[0]


def point_on_screen(panel, row) -> QPoint:
    view = panel.scatter
    box = view.getPlotItem().getViewBox()
    scene = box.mapViewToScene(QPointF(*panel.scatter.cloud.coords[row]))
    return view.mapFromScene(scene)


def test_map_hover_click_neighbours(qtbot, panel, tiny_images):
    assert panel.picker.checkpoint_count() >= 2  # "last" and the kept checkpoints
    count = mapped(qtbot, panel)
    assert count == panel.session.coords.shape[0] == len(list(tiny_images.rglob("*.png")))
    # Hover: the sample's picture appears.
    row = 5
    QTest.mouseMove(panel.scatter.viewport(), point_on_screen(panel, row))
    hover = panel.inspector.hover
    qtbot.waitUntil(lambda: hover.pixmap() is not None and not hover.pixmap().isNull(), timeout=5000)
    # Click: the sample opens with its nearest neighbours, most similar first.
    with qtbot.waitSignal(panel.scatter.sig_clicked) as clicked:
        QTest.mouseClick(panel.scatter.viewport(), Qt.MouseButton.LeftButton, pos=point_on_screen(panel, row))
    opened = clicked.args[0]
    coords = panel.session.coords
    assert np.allclose(coords[opened], coords[row], atol=1e-3 * np.ptp(coords))
    assert panel.inspector.gallery.count() == 12
    neighbours = [panel.inspector.gallery.item(i).data(Qt.ItemDataRole.UserRole) for i in range(12)]
    expected, _ = panel.session.index.query(opened, 12)
    assert neighbours == expected.tolist() and opened not in neighbours


def test_rectangle_and_lasso_selection_then_label_it(qtbot, panel):
    mapped(qtbot, panel)
    coords = panel.session.coords
    low, high = np.percentile(coords, 20, axis=0), np.percentile(coords, 70, axis=0)
    start, end = point_on_screen_xy(panel, low[0], high[1]), point_on_screen_xy(panel, high[0], low[1])
    viewport = panel.scatter.viewport()
    with qtbot.waitSignal(panel.scatter.sig_selected) as selected:
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, start)
        QTest.mouseMove(viewport, (start + end) / 2)
        QTest.mouseMove(viewport, end)
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, end)
    rows = selected.args[0]
    inside = np.flatnonzero(np.all((coords >= low) & (coords <= high), axis=1))
    assert len(rows) > 0 and len(set(rows.tolist()) ^ set(inside.tolist())) <= 2  # pixel rounding at the edges
    panel.controls.labeller.class_box.setEditText("my class")
    with qtbot.waitSignal(panel.state.sig_labels_changed):
        panel.assign_selection()
    labels = panel.state.labels
    assert set(labels) == {panel.session.samples.ids[r] for r in rows} and set(labels.values()) == {"my class"}
    assert all(panel.session.labels()[r] == "my class" for r in rows)
    # A lasso: a triangle around the map's centre selects exactly the points inside it.
    centre = np.median(coords, axis=0)
    span = np.ptp(coords, axis=0) / 4
    corners = [centre + [-span[0], -span[1]], centre + [span[0], -span[1]], centre + [0, span[1]]]
    screen = [point_on_screen_xy(panel, *c) for c in corners]
    with qtbot.waitSignal(panel.scatter.sig_selected) as lassoed:
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, screen[0])
        for point in screen[1:] + [screen[0]]:
            QTest.mouseMove(viewport, point)
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, screen[0])
    assert set(lassoed.args[0].tolist()) <= set(range(len(coords)))
    assert len(lassoed.args[0]) < len(coords)


def point_on_screen_xy(panel, x, y) -> QPoint:
    box = panel.scatter.getPlotItem().getViewBox()
    return panel.scatter.mapFromScene(box.mapViewToScene(QPointF(float(x), float(y))))


def test_colour_by_cluster_and_prediction_and_time_lapse(qtbot, panel):
    mapped(qtbot, panel)
    panel.controls.colour_box.setCurrentText("cluster")
    qtbot.waitUntil(lambda: panel.session.clusters is not None and not panel.work.busy, timeout=30_000)
    assert len(set(panel.session.clusters.tolist())) == panel.controls.map_form.values()["clusters"]
    assert "cluster" in panel.controls.legend.text()
    mapped(qtbot, panel)  # a new map clears the clusters, and colouring by cluster computes them again
    qtbot.waitUntil(lambda: panel.session.clusters is not None and not panel.work.busy, timeout=30_000)
    assert "cluster" in panel.controls.legend.text()
    panel.controls.colour_box.setCurrentText("predicted class")  # the folder's labels train the probe
    qtbot.waitUntil(lambda: panel.session.probe is not None and not panel.work.busy, timeout=30_000)
    assert len(panel.session.probe.predicted) == len(panel.session.coords)
    panel.build_timelapse()
    qtbot.waitUntil(lambda: panel.controls.slider.isEnabled() and not panel.work.busy, timeout=60_000)
    assert len(panel.session.frames) == panel.picker.checkpoint_count()  # every kept checkpoint and the last
    panel.controls.slider.setValue(0)
    np.testing.assert_allclose(panel.scatter.cloud.coords, panel.session.frames[0])


def test_audio_hover_shows_the_clips_spectrogram(qtbot, open_panel, tiny_audio, tmp_path):
    run = tmp_path / "audio-run"
    train(TrainRequest(tiny_audio, run, "masked_spectrogram", train_settings={"max_steps": 2, "batch_size": 4}))
    panel = open_panel(tiny_audio, "audio", run)
    mapped(qtbot, panel)
    QTest.mouseMove(panel.scatter.viewport(), point_on_screen(panel, 3))
    hover = panel.inspector.hover
    qtbot.waitUntil(lambda: hover.pixmap() is not None and not hover.pixmap().isNull(), timeout=5000)
    assert hover.pixmap().width() == 2 * hover.pixmap().height()  # a spectrogram strip, not a square tile


def test_a_text_sample_opens_as_its_own_line_not_the_whole_file(qtbot, open_panel, tiny_text, tmp_path):
    import json

    folder = tmp_path / "lines"
    folder.mkdir()
    texts = [" ".join(path.read_text().split()[:40]) for path in sorted(tiny_text.rglob("*.txt"))[:24]]
    (folder / "notes #1.jsonl").write_text("\n".join(json.dumps({"text": t}) for t in texts) + "\n")
    run = tmp_path / "text-run"
    train(TrainRequest(folder, run, "mlm", train_settings={"max_steps": 2, "batch_size": 4}))
    panel = open_panel(folder, "text", run)
    mapped(qtbot, panel)
    row = 7
    assert panel.session.samples.ids[row] == "notes #1.jsonl#8"
    panel.open_sample(row)
    page = panel.inspector.viewer.stack.currentWidget()
    assert page.toPlainText() == texts[row]
    assert "notes #1.jsonl" in panel.inspector.viewer.title.text()
    assert "cannot be read" not in panel.inspector.viewer.title.text()


def test_labels_made_on_another_page_recolour_the_map(qtbot, panel):
    mapped(qtbot, panel)
    first = panel.session.samples.ids[0]
    assert panel.session.labels()[0] != "picked elsewhere"  # read once, so a stale cache would show
    panel.state.set_labels({first: "picked elsewhere"})  # as the Fine-tune page does
    assert panel.session.labels()[0] == "picked elsewhere"
    assert "picked&nbsp;elsewhere" in panel.controls.legend.text()  # one legend entry never wraps
    assert panel.controls.labeller.class_box.findText("picked elsewhere") >= 0


def test_a_sample_opens_from_its_own_file_whatever_part_of_it_it_is():
    from types import SimpleNamespace

    from sslstudio.gui.widgets.sample_gallery import sample_file

    audio = SimpleNamespace(ids=["talk.wav#t=30", "a#b.wav"], modality="audio", root="/data")
    text = SimpleNamespace(ids=["notes.jsonl#12", "c#sharp.txt"], modality="text", root="/data")
    assert [sample_file(audio, i).as_posix() for i in (0, 1)] == ["/data/talk.wav", "/data/a#b.wav"]
    assert [sample_file(text, i).as_posix() for i in (0, 1)] == ["/data/notes.jsonl", "/data/c#sharp.txt"]


def test_the_map_exports_as_a_table_with_its_points_and_labels(qtbot, panel, tmp_path):
    import pyarrow.parquet as pq

    assert not panel.controls.export_button.isEnabled()  # nothing mapped yet
    mapped(qtbot, panel)
    assert panel.controls.export_button.isEnabled()
    panel.scatter.select(np.array([0, 1]))
    panel.assign_selection("picked here")
    with qtbot.waitSignal(panel.sig_exported, timeout=30_000):
        panel.export_map(tmp_path / "map.parquet")
    table = pq.read_table(tmp_path / "map.parquet")
    assert table.num_rows == len(panel.session.coords)
    assert np.allclose(np.c_[table.column("x").to_numpy(), table.column("y").to_numpy()], panel.session.coords)
    assert table.column("label").to_pylist()[:2] == ["picked here", "picked here"]  # the labels as shown
    assert "map.parquet" in panel.controls.note.text()


def test_each_phase_of_mapping_is_named_in_order_and_cancel_stops_the_fit(qtbot, panel):
    """Fitting a map takes minutes at real size: the page names each phase as it starts, not "embedding"
    at 100 % throughout, and Cancel stops the fit mid-way."""
    phases = []
    panel.sig_phase.connect(phases.append)
    panel.controls.map_form.set_values({"method": "tsne", "cap": 30})  # the other 18 are placed afterwards
    mapped(qtbot, panel)
    assert phases == ["decoding the folder", "embedding every sample", "preparing 48 points for the map",
                      "fitting the map (t-SNE on 30 points): finding each point's neighbours",
                      "fitting the map (t-SNE on 30 points)", "placing the other 18 points on the map"]
    assert "18 were placed" in panel.controls.note.text()  # the map's own note once it is done
    phases.clear()
    panel.sig_phase.connect(lambda name: name == "fitting the map (t-SNE on 30 points)" and panel.cancel())
    panel.extract_and_map()  # embedded already (cached): straight to the fit, which Cancel stops
    qtbot.waitUntil(lambda: not panel.work.busy, timeout=60_000)
    assert phases[-1] == "fitting the map (t-SNE on 30 points)" and panel.controls.note.text() == "Cancelled."


def test_neighbours_show_their_whole_name_and_a_similarity_that_tells_them_apart(qtbot, panel):
    mapped(qtbot, panel)
    panel.open_sample(5)
    gallery = panel.inspector.gallery
    rows, similarity = panel.session.index.query(5, 12)
    texts = [gallery.item(i).text() for i in range(gallery.count())]
    names = [text.split("\n")[0] for text in texts]
    assert names == [panel.session.samples.ids[row] for row in rows.tolist()]  # the whole id; the view elides it
    assert gallery.textElideMode() == Qt.TextElideMode.ElideMiddle
    assert [gallery.item(i).toolTip() for i in range(gallery.count())] == texts
    shown = [float(text.split("\n")[1].split()[1]) for text in texts]  # "cosine 0.912" or "distance 0.0031"
    as_cosine = [1 - value for value in shown] if texts[0].split("\n")[1].startswith("distance") else shown
    np.testing.assert_allclose(as_cosine, similarity, atol=6e-4)
    assert len(set(shown)) > 1 and "1.00" not in " ".join(texts)
    # The grid shows more than a narrow column of two at the page's size.
    assert gallery.gridSize().width() * 3 <= gallery.viewport().width()


def test_labelling_a_selection_recolours_it_and_no_other_class(qtbot, panel):
    mapped(qtbot, panel)
    before = panel.scatter.cloud.colours.copy()
    picked = np.array([0, 1, 2])
    panel.scatter.select(picked)
    panel.assign_selection("aaa <first> by name")
    after = panel.scatter.cloud.colours
    others = np.setdiff1d(np.arange(len(after)), picked)
    np.testing.assert_array_equal(after[others], before[others])
    assert not np.array_equal(after[picked[0]], before[picked[0]])
    assert len({tuple(c) for c in after[panel.session.labels() != ""].tolist()}) == len(panel.session.classes())
    assert "aaa&nbsp;&lt;first&gt;&nbsp;by&nbsp;name" in panel.controls.legend.text()  # text, not markup


def test_a_click_on_empty_map_clears_the_selection_and_a_click_on_a_point_keeps_it(qtbot, panel):
    mapped(qtbot, panel)
    view = panel.scatter
    panel.scatter.select(np.array([3, 4, 5]))
    assert panel.controls.labeller.count.text() == "3 selected"
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point_on_screen(panel, 7))  # opens a sample
    assert view.selected_rows().tolist() == [3, 4, 5]
    size = view.viewport().size()
    empty = next(QPoint(x, y) for x in range(4, size.width(), 7) for y in range(4, size.height(), 7)
                 if view.row_at(view.mapToScene(QPoint(x, y))) < 0)
    with qtbot.waitSignal(view.sig_selected) as cleared:
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    assert len(cleared.args[0]) == 0 and not view.selected_rows().size
    assert panel.controls.labeller.count.text().startswith("Nothing selected")


def test_the_map_background_follows_the_theme_light_dark_and_presenter(qtbot, no_questions):
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from sslstudio.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    scatter = window.embeddings_panel.scatter

    def background() -> str:
        return scatter.backgroundBrush().color().name()

    assert background() == scatter.palette().color(QPalette.ColorRole.Base).name() == "#ffffff"
    window.presenter.set_on(True)
    assert background() == "#101010"  # presenter mode's dark style
    window.presenter.set_on(False)
    assert background() == "#ffffff"
    app, light = QApplication.instance(), QApplication.palette()
    dark = QPalette(light)
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#eeeeee"))
    try:
        app.setPalette(dark)  # the system's dark scheme
        qtbot.waitUntil(lambda: background() == "#1e1e1e", timeout=5000)
    finally:
        app.setPalette(light)
    window.state.dirty = False

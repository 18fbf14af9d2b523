import re

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from sslstudio.core.data.scan import scan_folder
from sslstudio.core.tasks.registry import get_task
from sslstudio.gui.jobs import JobRunner
from sslstudio.gui.panels.task_panel import TaskPanel
from sslstudio.gui.widgets.args_form import ArgsForm


def test_form_is_built_from_the_schema(qtbot):
    form = ArgsForm()
    qtbot.addWidget(form)
    form.set_schema(get_task("inpainting").Args.schema())
    assert isinstance(form.editors["style"], QComboBox)
    ratio = form.editors["mask_ratio"]
    assert isinstance(ratio, QDoubleSpinBox) and (ratio.minimum(), ratio.maximum()) == (0.05, 0.95)
    assert isinstance(form.editors["patch_size"], QSpinBox)
    assert "Share of the image hidden" in ratio.toolTip() and "Range 0.05 to 0.95" in ratio.toolTip()
    assert form.values() == {"style": "patches", "mask_ratio": 0.5, "patch_size": 4}
    form.set_schema(get_task("rotation").Args.schema())
    assert isinstance(form.editors["flip"], QCheckBox) and "style" not in form.editors


def test_values_from_the_model_do_not_echo_but_edits_do(qtbot):
    form = ArgsForm()
    qtbot.addWidget(form)
    form.set_schema(get_task("inpainting").Args.schema())
    with qtbot.assertNotEmitted(form.sig_changed):
        form.set_values({"mask_ratio": 0.75})
    with qtbot.waitSignal(form.sig_changed) as changed:
        form.editors["patch_size"].setValue(8)
    assert changed.args[0]["patch_size"] == 8 and changed.args[0]["mask_ratio"] == 0.75
    assert form.changed_from_defaults() == {"mask_ratio": 0.75, "patch_size": 8}


@pytest.fixture
def panel(qtbot):
    jobs = JobRunner()
    widget = TaskPanel(jobs)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    yield widget
    assert jobs.wait_all(30_000)
    qtbot.waitUntil(lambda: not jobs.jobs, timeout=5000)


def card_texts(panel):
    return [label.text() for label in panel.grid.cards[0].findChildren(type(panel.bar.status))]


def hidden_share(panel) -> float:
    found = [re.search(r"hidden_share=([0-9.]+)", text) for text in card_texts(panel)]
    return float(next(m for m in found if m).group(1))


def open_folder(panel, folder, task=None, values=None):
    scan = scan_folder(folder)
    modality = scan.choose_modality()
    panel.set_folder(folder, modality, scan.files[modality], task, values)


def test_preview_renders_and_follows_a_setting(qtbot, panel, tiny_images):
    with qtbot.waitSignal(panel.sig_task_changed, timeout=30_000) as chosen:  # tasks are listed off-thread
        open_folder(panel, tiny_images, "inpainting", {"mask_ratio": 0.3})
    assert chosen.args == ["inpainting", {"mask_ratio": 0.3}]
    qtbot.waitUntil(lambda: len(panel.grid.cards) == 8 and not panel.busy, timeout=30_000)
    first = panel.generation
    assert abs(hidden_share(panel) - 0.3) < 0.05
    panel.form.editors["mask_ratio"].setValue(0.8)  # debounced, then rendered off the GUI thread
    qtbot.waitUntil(lambda: panel.generation > first and not panel.busy, timeout=30_000)
    assert abs(hidden_share(panel) - 0.8) < 0.05


def test_bad_setting_combination_is_shown_beside_the_form(qtbot, panel, tiny_audio):
    open_folder(panel, tiny_audio, "audio_denoising")
    qtbot.waitUntil(lambda: len(panel.grid.cards) > 0 and not panel.busy, timeout=60_000)
    panel.form.editors["snr_min_db"].setValue(30.0)  # above snr_max_db (20)
    qtbot.waitUntil(lambda: "must not exceed" in panel.error.text(), timeout=30_000)


@pytest.mark.parametrize("task", ["mlm", "simcse", "word_context"])
def test_text_tasks_preview_tokens(qtbot, panel, tiny_text, task):
    open_folder(panel, tiny_text, task)
    qtbot.waitUntil(lambda: len(panel.grid.cards) > 0 and not panel.busy, timeout=60_000)
    assert "[CLS]" in " ".join(card_texts(panel))
    assert panel.current_task() == task


def test_tasks_are_listed_by_family_with_their_cost(qtbot, panel, tiny_text):
    open_folder(panel, tiny_text)
    qtbot.waitUntil(lambda: panel.picker.task_list.count() > 0, timeout=30_000)
    rows = [panel.picker.task_list.item(i).text() for i in range(panel.picker.task_list.count())]
    assert rows == ["mlm  ·  reconstruction, medium cost", "word_context  ·  context prediction, low cost",
                    "simcse  ·  contrastive, medium cost"]
    assert "one pass per sample" in panel.picker.task_list.item(1).toolTip()


def test_input_settings_are_proposed_from_the_files_and_the_preview_follows_them(qtbot, panel, tmp_path):
    from tests.conftest import make_images

    folder = make_images(tmp_path / "photos", 24, size=(400, 300))
    with qtbot.waitSignal(panel.sig_inputs_changed, timeout=30_000) as proposed:
        open_folder(panel, folder, "rotation")
    assert proposed.args[0]["image_size"] == 64  # 300-px images, on this CPU machine
    estimate = panel.input_settings.estimate.text()
    assert "Store: about" in estimate and "24 files" in estimate
    assert "about 300 px" in estimate and "detail is thrown away" in estimate
    qtbot.waitUntil(lambda: panel.inputs is not None and not panel.busy, timeout=30_000)
    assert panel.inputs[0].spec.image_size == 64 and panel.inputs[0].records.side == 73
    with qtbot.waitSignal(panel.sig_inputs_changed, timeout=10_000) as changed:
        panel.input_settings.form.editors["image_size"].setValue(128)
    assert changed.args[0]["image_size"] == 128
    qtbot.waitUntil(lambda: panel.inputs is not None and panel.inputs[0].spec.image_size == 128 and not panel.busy,
                    timeout=30_000)
    assert panel.inputs[0].records.side == 146  # decoded again, 8/7 of the new size
    assert "detail is thrown away" not in panel.input_settings.estimate.text()


def test_a_projects_input_settings_win_over_the_proposal(qtbot, panel, tiny_audio):
    scan = scan_folder(tiny_audio)
    with qtbot.waitSignal(panel.sig_inputs_changed, timeout=30_000) as proposed:
        panel.set_folder(tiny_audio, "audio", scan.files["audio"], "masked_spectrogram", None,
                         {"audio_seconds": 0.5, "sample_rate": 8000})
    assert proposed.args[0]["audio_seconds"] == 0.5 and proposed.args[0]["sample_rate"] == 8000
    assert set(panel.input_settings.form.editors) == {"audio_seconds", "sample_rate", "audio_segment_seconds"}
    qtbot.waitUntil(lambda: panel.inputs is not None and not panel.busy, timeout=60_000)
    assert panel.inputs[1].spec.sample_rate == 8000


def test_a_new_folder_starts_on_its_recommended_recipe_and_the_recipe_can_be_chosen_again(qtbot, panel, tiny_images):
    from sslstudio.core.recipes import recommended

    recipe = recommended("image", "cpu")
    chosen = []
    panel.sig_recipe_chosen.connect(chosen.append)
    with qtbot.waitSignal(panel.sig_task_changed, timeout=30_000):
        open_folder(panel, tiny_images)  # no task yet: the recipe's
    assert panel.current_task() == recipe.task and chosen == [recipe]
    shown = panel.picker.recipe_box.label.text()
    assert "Recommended" in shown and recipe.evidence().split(" (")[0] in shown
    panel.picker.choose("rotation")
    with qtbot.waitSignal(panel.sig_task_changed, timeout=10_000) as changed:
        panel.picker.recipe_box.button.click()
    assert changed.args == [recipe.task, recipe.task_args] and chosen == [recipe, recipe]

"""The recommended recipe's box on the Task page: its figures show only beside a folder like the data they
were measured on."""
from sslstudio.core.data.survey import Survey
from sslstudio.core.recipes import recommended
from sslstudio.gui.widgets.recipe_box import RecipeBox


def test_the_recipe_box_says_plainly_when_its_figures_come_from_other_data(qtbot):
    box = RecipeBox()
    qtbot.addWidget(box)
    box.show_recipe(recommended("image", "cpu"))  # measured on 28 px greyscale Fashion-MNIST
    box.show_folder(Survey("image", 20_000, median_side=600, colour=True))
    shown = box.label.text()
    assert "No measurement on data like this folder's (600 px, colour)" in shown and "points over" not in shown
    assert box.button.isEnabled()  # the recipe can still be used
    box.show_folder(Survey("image", 500, median_side=28, colour=False))
    assert "No measurable gain over raw pixels" in box.label.text()  # +1.0 points, within one std
    box.show_folder(None)
    assert "Fashion-MNIST" in box.label.text()

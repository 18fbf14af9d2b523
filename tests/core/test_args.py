import pytest

from sslstudio.core.errors import ArgsError, UserError
from sslstudio.core.settings import parse_assignments
from sslstudio.core.tasks.masked_spectrogram import MaskedSpectrogramArgs
from sslstudio.core.tasks.mlm import MLMArgs
from sslstudio.core.tasks.registry import TASKS, get_task


def test_values_from_strings_are_typed():
    args = MaskedSpectrogramArgs.from_mapping(parse_assignments(["time_masks=3", "freq_mask_width=0.1"]))
    assert args.time_masks == 3 and args.freq_mask_width == 0.1


def test_out_of_range_names_the_field_and_range():
    with pytest.raises(ArgsError, match=r"'mask_prob' must be in \[0.01, 0.8\]; got 0.9"):
        MLMArgs.from_mapping({"mask_prob": "0.9"})


def test_wrong_type_and_unknown_name():
    with pytest.raises(ArgsError, match="'time_masks' must be int"):
        MaskedSpectrogramArgs.from_mapping({"time_masks": "two"})
    with pytest.raises(ArgsError, match="unknown setting 'mask'.*valid settings: mask_prob"):
        MLMArgs.from_mapping({"mask": "0.2"})
    with pytest.raises(ArgsError, match="KEY=VALUE"):
        parse_assignments(["novalue"])


def test_cross_field_rules():
    with pytest.raises(ArgsError, match="at most 1"):
        MLMArgs(mask_token_share=0.8, random_token_share=0.3)
    with pytest.raises(ArgsError, match="must hide something"):
        MaskedSpectrogramArgs(time_masks=0, freq_masks=0)


def test_every_task_describes_itself_with_a_schema():
    for task in TASKS.values():
        described = task.describe()
        assert described["reference"] and described["description"]
        for field in described["args"]:
            assert field["help"] and field["type"] in ("int", "float", "bool", "str")
        task.Args()  # defaults are valid


def test_unknown_task_lists_the_valid_ones():
    with pytest.raises(UserError, match="valid tasks: audio_contrastive, audio_denoising, audio_mae, byol, "
                                        "colorization, dino, inpainting, jigsaw, mae, masked_spectrogram, mlm, "
                                        "rotation, simclr, simcse, vicreg, word_context"):
        get_task("jigsaw9")


def test_train_settings_validate_in_core_and_optional_fields_take_none():
    from sslstudio.core.training.config import TrainConfig

    config = TrainConfig.from_mapping({"epochs": "", "max_minutes": "1.5", "batch_size": "32"})
    assert config.epochs is None and config.max_minutes == 1.5 and config.batch_size == 32
    with pytest.raises(ArgsError, match=r"'batch_size' must be in \[1, 65536\]; got 0"):
        TrainConfig(batch_size=0)
    with pytest.raises(ArgsError, match="'lr' must be at least 1e-08"):
        TrainConfig.from_mapping({"lr": "0"})
    with pytest.raises(ArgsError, match="'seed' needs a value"):
        TrainConfig(seed=None)


def test_several_values_are_typed_and_each_checked():
    from sslstudio.core.evaluation.settings import CurveSettings

    assert CurveSettings.from_mapping({"shots": "1, 5 0", "seeds": [3]}).shots == (1, 5, 0)
    with pytest.raises(ArgsError, match="'shots' must be in"):
        CurveSettings.from_mapping({"shots": "1 -2"})
    with pytest.raises(ArgsError, match="one of linear, knn, finetune"):
        CurveSettings(method="svm")

"""NaN and infinity are refused by the schema itself, for every float setting: comparisons with NaN are all
false, so a range check alone let `--max-minutes nan` train without end and `--lr nan` reach the optimizer."""
import math
from pathlib import Path

import pytest

from sslstudio.cli.options import SETTINGS_GROUPS
from sslstudio.core.errors import ArgsError
from sslstudio.core.tasks.registry import TASKS
from sslstudio.core.training.config import TrainConfig
from sslstudio.core.training.session import TrainRequest

GROUPS = [*SETTINGS_GROUPS.values(), *(task.Args for task in TASKS.values())]


def _float_fields(cls):
    return [name for name, kind in cls.kinds().items() if kind.scalar is float]


@pytest.mark.parametrize("cls", GROUPS, ids=lambda cls: cls.__qualname__)
def test_every_float_setting_refuses_nan_and_infinity_in_one_line(cls):
    for name in _float_fields(cls):
        for text in ("nan", "inf", "-inf", "NaN"):
            with pytest.raises(ArgsError, match=rf"^setting {name!r} must be .*; got -?(nan|inf)$") as caught:
                cls.coerce(name, text)
            assert "\n" not in str(caught.value)
        for value in (math.nan, math.inf):  # typed values, as the API and the GUI's forms pass them
            with pytest.raises(ArgsError):
                cls.from_mapping({name: value})


def test_the_range_message_names_the_bounds_for_nan():
    with pytest.raises(ArgsError, match=r"^setting 'max_minutes' must be in \[0.001, 100000.0\]; got nan$"):
        TrainConfig.from_mapping({"max_minutes": "nan"})
    with pytest.raises(ArgsError, match=r"^setting 'lr' must be at least 1e-08; got inf$"):
        TrainConfig(lr=math.inf)


def test_the_apis_request_refuses_minutes_nan_before_any_work(tmp_path):
    request = TrainRequest(Path(tmp_path), tmp_path / "run", "rotation", train_settings={"max_minutes": math.nan})
    with pytest.raises(ArgsError, match="'max_minutes' must be"):
        request.check()
    request = TrainRequest(Path(tmp_path), tmp_path / "run", "simclr", task_args={"temperature": math.nan})
    with pytest.raises(ArgsError, match="'temperature' must be"):
        request.check()
    assert not (tmp_path / "run").exists()

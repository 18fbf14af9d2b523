"""The CLI's options come from core's settings schemas: `settings --json` prints them, each field is an
option of its command, and a bad value is refused before any work with the schema's own words."""
import json
import subprocess
import sys

from sslstudio.cli.main import build_parser
from sslstudio.cli.options import COMMANDS, SETTINGS_GROUPS


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "sslstudio", *args], capture_output=True, text=True, timeout=120)


def test_settings_json_prints_every_group_with_ranges_and_help():
    result = run_cli("settings", "--json")
    assert result.returncode == 0, result.stderr
    groups = json.loads(result.stdout)["groups"]
    assert set(groups) == set(SETTINGS_GROUPS)
    batch = next(f for f in groups["train"] if f["name"] == "batch_size")
    assert (batch["min"], batch["max"], batch["default"], batch["type"]) == (1, 65536, 128, "int")
    epochs = next(f for f in groups["train"] if f["name"] == "epochs")
    assert epochs["optional"] and epochs["none_means"] == "until the time budget"
    assert next(f for f in groups["curve"] if f["name"] == "shots")["many"]


def test_every_field_of_a_commands_groups_is_one_of_its_options():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, (_, _, groups) in COMMANDS.items():
        flags = {flag for action in commands[name]._actions for flag in action.option_strings}
        for group in groups:
            for field in group.schema():
                assert "--" + field["name"].replace("_", "-") in flags, (name, field["name"])


def test_a_value_out_of_range_is_refused_with_the_schemas_range():
    result = run_cli("train", "somewhere", "--out", "run", "--warmup-fraction", "1.5")
    assert result.returncode == 2 and "--warmup-fraction: it must be in [0.0, 1.0]; got 1.5" in result.stderr
    result = run_cli("probe", "run", "--labelled", "x", "--method", "svm")
    assert result.returncode == 2 and "--method: it must be one of linear, knn, finetune; got 'svm'" in result.stderr

"""`sslstudio --self-test`: real steps on the bundled demo data; a broken step fails the test, the rest still run."""
import sys

import pytest

from sslstudio.cli.main import main
from sslstudio.core import selftest


def test_the_text_loop_passes_on_the_demo_data():
    lines = []
    assert selftest.self_test(modalities=["text"], log=lines.append)
    assert [line.split()[0] for line in lines[:-1]] == ["ok"] * 4
    assert "self-test passed: 4 of 4 steps" in lines[-1]


def test_a_failing_step_is_reported_and_the_later_steps_still_run(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(selftest, "demo_folder", lambda modality: empty)
    lines = []
    ran = []

    def later():
        ran.append(True)
        return "fine"

    assert not selftest.self_test(extra=[("later check", later)], modalities=["text"], log=lines.append)
    assert ran == [True]
    assert lines[0].startswith("FAIL text: scan") and "should hold labelled files" in lines[0]
    assert "not run: an earlier step" in lines[1]  # train depends on the scan
    assert "self-test FAILED: 1 of 5 steps worked" in lines[-1] and "text: scan" in lines[-1]


def test_the_frozen_app_refuses_python_dash_c(monkeypatch, capsys):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert main(["-c", "print('a second workbench')"]) == 1
    assert "not a Python interpreter" in capsys.readouterr().err


def test_self_test_is_offered_on_the_command_line(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--self-test" in capsys.readouterr().out

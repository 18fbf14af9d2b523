"""The desktop packaging: the spec's rules, the desktop files, the launcher, a minimal freeze, and
(with SSLSTUDIO_TEST_INSTALLER=1, minutes and gigabytes) the full installer build and its checks."""
import configparser
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

from bundle_rules import keep_in_bundle  # noqa: E402


def test_the_bundle_keeps_what_import_torch_needs_and_drops_build_tools():
    assert keep_in_bundle("torch/bin/torch_shm_manager")
    assert keep_in_bundle("torch/lib/libtorch_cpu.so")
    assert keep_in_bundle("torchvision/_C.so")
    for dropped in ("torch/bin/protoc", "torch/include/ATen/ATen.h", "torch/test/test_nn.py", "triton/_C/libtriton.so"):
        assert not keep_in_bundle(dropped), dropped


def test_desktop_entry_and_mime_type_agree():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(PACKAGING / "linux" / "sslstudio.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"].split()[0] == "sslstudio" and desktop["Icon"] == "sslstudio"
    assert "Science;" in desktop["Categories"]
    mime = ElementTree.parse(PACKAGING / "linux" / "sslstudio-mime.xml").getroot()
    namespace = "{http://www.freedesktop.org/standards/shared-mime-info}"
    declared = mime.find(f"{namespace}mime-type")
    assert declared.get("type") + ";" == desktop["MimeType"]
    assert declared.find(f"{namespace}glob").get("pattern") == "*.sslproj"
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(PACKAGING / "linux" / "sslstudio.desktop")], check=True)


def test_the_launcher_finds_the_app_relative_to_itself_even_through_a_symlink(tmp_path):
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "opt/sslstudio").mkdir(parents=True)
    launcher = tmp_path / "usr/bin/sslstudio"
    shutil.copy(PACKAGING / "linux" / "sslstudio-launcher.sh", launcher)
    app = tmp_path / "opt/sslstudio/sslstudio"
    app.write_text('#!/bin/sh\necho "app got: $*"\n')
    app.chmod(0o755)
    (tmp_path / "elsewhere").symlink_to(launcher)
    for command in (launcher, tmp_path / "elsewhere"):
        result = subprocess.run(["sh", str(command), "gui", "my folder"], capture_output=True, text=True, check=True)
        assert result.stdout.strip() == "app got: gui my folder"


def test_the_workbench_reports_its_window_and_closes_cleanly():
    """The hook the installer build times launch -> window with; the exit path must not crash either."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SSLSTUDIO_QUIT_WHEN_SHOWN": "1"}
    result = subprocess.run([sys.executable, "-m", "sslstudio", "gui", str(ROOT / "resources/demo/image")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("sslstudio: window shown on the offscreen platform")


def test_a_minimal_freeze_runs_and_finds_the_bundled_resources(tmp_path):
    pytest.importorskip("PyInstaller")
    result = subprocess.run([sys.executable, str(PACKAGING / "build.py"), "--minimal", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "frozen=True icon=True image=1000 audio=150 text=298" in result.stdout
    info = json.loads((tmp_path / "build-info.json").read_text())
    assert info["variant"] == "minimal" and info["bundle_mb"] > 1


@pytest.mark.installer
@pytest.mark.skipif(not os.environ.get("SSLSTUDIO_TEST_INSTALLER"), reason="set SSLSTUDIO_TEST_INSTALLER=1 "
                    "to build the full installer (about 10 minutes and 15 GB of disk)")
def test_the_full_installer_builds_self_tests_installs_and_purges(tmp_path):
    try:
        result = subprocess.run([sys.executable, str(PACKAGING / "build.py"), "--out", str(tmp_path)],
                                capture_output=True, text=True, timeout=3600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "self-test passed" in result.stdout
        info = json.loads((tmp_path / "build-info.json").read_text())
        assert (tmp_path / info["deb"]).is_file()
        assert info["launch_to_window_s"]["offscreen"] > 0 and info["installed_launcher_to_window_s"] > 0
        if os.geteuid() == 0:
            assert info["purge_leaves"] == []
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)  # gigabytes: pytest would keep them among its last runs

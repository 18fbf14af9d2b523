"""The pip package carries what a first run needs: the demo data and the icon."""
import subprocess
import sys
import zipfile
from pathlib import Path

import sslstudio

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_the_demo_data_and_finds_it_when_installed(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path / "dist"),
                            str(ROOT)], check=True, capture_output=True, text=True, timeout=600)
    complaints = [line for line in (built.stdout + built.stderr).splitlines()
                  if "BackendWarning" in line or "deprecat" in line.lower()]
    assert complaints == []  # the build backend is quiet: a fresh clone's `make run` shows pip and the app
    wheel = next((tmp_path / "dist").glob("sslstudio-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    bundled = sorted(p.relative_to(ROOT / "resources") for p in (ROOT / "resources").rglob("*") if p.is_file())
    unpacked = tmp_path / "site" / "sslstudio" / "bundled"
    assert [p for p in bundled if not (unpacked / p).is_file()] == []
    found = subprocess.run([sys.executable, "-c", "from sslstudio.resources import demo_folder, icon_path;"
                            "print(demo_folder('image')); print(icon_path().is_file())"],
                           env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}, cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout.split()
    assert found == [str(unpacked / "demo" / "image"), "True"]
    modules = sorted(p.relative_to(ROOT) for p in (ROOT / "sslstudio").rglob("*.py"))
    assert [p for p in modules if not (tmp_path / "site" / p).is_file()] == []  # the CLI's package included
    version = subprocess.run([sys.executable, "-m", "sslstudio", "--version"], cwd=tmp_path, capture_output=True,
                             env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}, text=True, check=True)
    assert version.stdout.strip() == sslstudio.__version__

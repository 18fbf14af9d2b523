"""sslstudio.core must never import Qt or the GUI, directly or through anything it imports."""
import pkgutil
import subprocess
import sys
from pathlib import Path

import sslstudio.core

FORBIDDEN = ("PySide6", "pyqtgraph", "sslstudio.gui", "shiboken6")

BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'PySide6', 'pyqtgraph', 'shiboken6'} or name.startswith('sslstudio.gui'):
            raise ImportError('core imported ' + name)
sys.meta_path.insert(0, Block())
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
print('ok', len(sys.argv) - 1)
"""


def core_modules() -> list[str]:
    root = Path(sslstudio.core.__file__).parent
    return sorted(m.name for m in pkgutil.walk_packages([str(root)], prefix="sslstudio.core."))


def test_every_core_module_imports_with_qt_blocked():
    modules = core_modules()
    assert len(modules) > 20
    result = subprocess.run([sys.executable, "-c", BLOCKER, *modules], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")


def test_no_core_source_mentions_qt_imports():
    root = Path(sslstudio.core.__file__).parent
    offenders = [f"{path}:{n}" for path in root.rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if line.lstrip().startswith(("import ", "from "))
                 and any(name in line for name in FORBIDDEN)]
    assert offenders == []


def test_package_import_does_not_load_torch():
    code = "import sys, sslstudio, sslstudio.cli.main; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"

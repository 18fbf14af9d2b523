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


# Imports point down only (ARCHITECTURE.md). Each rule: a package never imports these, at module level or
# inside a function. Checked on the source's import statements, like import-linter's contracts in napari.
NEVER_IMPORTS = {
    "sslstudio.core": ("sslstudio.gui", "sslstudio.cli"),
    "sslstudio.core.data": ("sslstudio.core.models", "sslstudio.core.tasks", "sslstudio.core.training"),
    "sslstudio.core.models": ("sslstudio.core.tasks", "sslstudio.core.training"),
    "sslstudio.core.tasks": ("sslstudio.core.training", "sslstudio.core.embeddings", "sslstudio.core.evaluation"),
    "sslstudio.core.training": ("sslstudio.core.embeddings", "sslstudio.core.evaluation"),
    "sslstudio.core.embeddings": ("sslstudio.core.evaluation",),
}


def imports_of_every_module() -> dict[str, set[str]]:
    import ast

    package = Path(sslstudio.core.__file__).parent.parent
    found = {}
    for path in package.rglob("*.py"):
        module = ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[module] = {name for name in names if name.startswith("sslstudio")}
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_imports_point_down_the_layers():
    broken = [f"{module} imports {name}" for module, names in imports_of_every_module().items()
              for package, forbidden in NEVER_IMPORTS.items() if within(module, package)
              for name in names if any(within(name, low) for low in forbidden)]
    assert broken == []


def test_the_core_packages_import_each_other_without_a_cycle():
    def package_of(module: str) -> str | None:
        parts = module.split(".")
        root = Path(sslstudio.core.__file__).parent
        return parts[2] if len(parts) > 2 and parts[:2] == ["sslstudio", "core"] and (root / parts[2]).is_dir() \
            else None

    graph: dict[str, set[str]] = {}
    for module, names in imports_of_every_module().items():
        if package_of(module):
            graph.setdefault(package_of(module), set()).update(
                package_of(name) for name in names if package_of(name) not in (None, package_of(module)))
    done, path = set(), []

    def visit(node: str) -> None:
        assert node not in path, "import cycle: " + " -> ".join(path[path.index(node):] + [node])
        if node in done:
            return
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        path.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
    assert {"data", "tasks", "models", "training", "embeddings", "evaluation"} <= set(graph)


HEAVY = {"torch", "torchvision", "torchaudio", "sklearn", "umap", "onnx", "onnxruntime", "onnxscript", "openTSNE",
         "timm", "scipy"}


def test_the_gui_imports_late_only_what_is_heavy_and_says_why():
    """The written rule: inside a function, import only modules that pull in torch, scikit-learn, umap, onnx or
    the like, and say so in a trailing comment; everything else is imported at the top of its module."""
    import ast
    import functools

    package = Path(sslstudio.core.__file__).parent.parent
    modules = {".".join(p.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in package.rglob("*.py")}

    def top_level(path: Path) -> list[str]:
        found = []
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append(node.module)
        return found

    @functools.cache
    def heavy(module: str) -> bool:
        if module.split(".")[0] in HEAVY:
            return True
        return module in modules and any(heavy(name) for name in top_level(modules[module]) if name != module)

    broken = []
    for path in (package / "gui").rglob("*.py"):
        lines = path.read_text().splitlines()
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sslstudio"):
                    said = "#" in lines[node.lineno - 1] or "#" in lines[node.end_lineno - 1]
                    if not said:
                        kind = "heavy, say so" if heavy(node.module) else "light, import it at the top"
                        broken.append(f"{path.name}:{node.lineno} {node.module} ({kind})")
    assert broken == []

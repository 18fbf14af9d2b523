"""What the frozen app leaves out, and why each omission is safe. Used by sslstudio.spec and the tests.

Paths are as PyInstaller places them inside the bundle (relative to its _internal folder).
"""
from __future__ import annotations

# Modules the app never imports but PyInstaller would follow from optional imports.
EXCLUDED_MODULES = [
    "triton",  # only torch.compile's GPU code generator; torch.compile cannot work frozen (it re-runs -c)
    "tkinter", "matplotlib", "IPython", "jupyter_client", "notebook",  # optional plotting/REPL paths
    "pytest", "PyInstaller", "setuptools", "pip",  # tooling, not runtime
    "tensorboard", "torch.utils.tensorboard",  # sslstudio writes its own metrics
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.Qt3DCore", "PySide6.QtQuick",
    "PySide6.QtQml", "PySide6.QtCharts", "PySide6.QtDataVisualization", "PySide6.QtPdf",
    "PySide6.QtBluetooth", "PySide6.QtPositioning", "PySide6.QtSerialPort", "PySide6.QtDesigner",
]

# (path prefix, reason): dropped from the bundle.
DROPPED = [
    ("torch/test/", "torch's own test suite"),
    ("torch/include/", "C++ headers: only for compiling extensions, which a frozen app cannot do"),
    ("torch/share/", "CMake files for C++ builds"),
    ("torch/bin/", "protoc and ptxas (compiler tools); torch_shm_manager is kept, import torch needs it"),
    ("triton/", "see EXCLUDED_MODULES"),
]
KEPT = ("torch/bin/torch_shm_manager",)


def keep_in_bundle(dest: str) -> bool:
    dest = dest.replace("\\", "/")
    if dest in KEPT:
        return True
    return not any(dest.startswith(prefix) for prefix, _reason in DROPPED)

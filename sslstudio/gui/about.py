"""The About box: what this is and the versions a bug report needs."""
from __future__ import annotations

import platform
from importlib import metadata


def versions() -> dict[str, str]:
    found = {}
    for name in ("sslstudio", "torch", "torchvision", "torchaudio", "PySide6", "pyqtgraph", "numpy",
                 "scikit-learn", "soundfile"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["Python"] = platform.python_version()
    return found


def about_text() -> str:
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;{version}</td></tr>" for name, version in versions().items())
    return ("<h3>sslstudio</h3><p>A workbench for self-supervised learning on images, audio and text: "
            "preview a pretext task, train it, inspect the embeddings, probe with a few labels.</p>"
            f"<p>MIT licence. Platform: {platform.platform()}</p><table>{rows}</table>")

"""What `export` writes, declared once and free of torch: the formats with their file suffixes, and the
export's settings (core/settings.py) that the CLI's options and the Fine-tune page read."""
from __future__ import annotations

from dataclasses import dataclass

from sslstudio.core.settings import Settings, setting

FORMAT_SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt", "state_dict": ".pt"}
FORMATS = tuple(FORMAT_SUFFIXES)


@dataclass(frozen=True)
class ExportSettings(Settings):
    format: str = setting("onnx", "onnx and torchscript carry the preprocessing and, with labels, the probe "
                                  "head; state_dict is the backbone's weights alone.", choices=FORMATS)
    per_class: int = setting(0, "With labels: labelled samples per class the exported head learns from "
                                "(0: all).", min=0, max=1_000_000)
    check_samples: int = setting(256, "Held-out samples the exported file is checked on against the app.",
                                 min=1, max=1_000_000)
    seed: int = setting(0, "Seed of the labelled draw and of the check samples.", min=0, max=2**31 - 1)

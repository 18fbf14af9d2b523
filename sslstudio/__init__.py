"""sslstudio: a workbench for self-supervised learning on images, audio and text.

From Python: `sslstudio.open_folder`, `sslstudio.train`, `sslstudio.open_run` and the results they return
(sslstudio/api.py). They load when first used, so importing sslstudio stays light (the workbench's window
shows before torch is imported).
"""

__version__ = "0.1.0"

_API = ("Control", "ExportReport", "ProbeReport", "Run", "Samples", "TrainingError", "UserError", "open_folder",
        "open_run", "train")


def __getattr__(name: str):
    if name in _API:
        from sslstudio import api

        return getattr(api, name)
    raise AttributeError(f"module 'sslstudio' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])

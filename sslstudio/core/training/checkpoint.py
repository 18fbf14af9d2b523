"""Full-state checkpoints, written atomically and read back with weights_only=True.

A checkpoint holds everything needed to continue the same run: model, heads,
optimizer, AMP scaler, RNG states and progress (step and elapsed time). The
LR schedule is a pure function of progress, so progress is its whole state. Only tensors and
plain containers go in, so the safe loader accepts it.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from sslstudio.core.errors import RunError
from sslstudio.core.io import atomic_write


def save_checkpoint(path: str | Path, state: dict) -> None:
    atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise RunError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file must not crash the caller with a pickle trace
        raise RunError(f"checkpoint {path} is unreadable ({type(exc).__name__}: {exc})") from None


def rng_state() -> dict:
    py_version, py_state, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [np_name, torch.from_numpy(np_keys.astype(np.int64)), np_pos, np_has_gauss, np_gauss],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    version, values, gauss = state["python"]
    random.setstate((version, tuple(values), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])

"""Full-state checkpoints, written atomically and read back with weights_only=True.

A checkpoint holds everything needed to continue the same run: model, heads,
optimizer, AMP scaler, RNG states and progress (step and elapsed time). The
LR schedule is a pure function of progress, so progress is its whole state. Only tensors and
plain containers go in, so the safe loader accepts it.

Each checkpoint carries a CRC-32 of every tensor's bytes, checked on load: bytes flipped on the
disk would otherwise load as weights of 1e36 and every command would carry on. Weights that are
not finite are refused as well.
"""
from __future__ import annotations

import errno
import random
import zlib
from pathlib import Path

import numpy as np
import torch

from sslstudio.core.errors import RunError
from sslstudio.core.io import atomic_write

DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


class CheckpointNotSaved(RunError):
    """Writing a checkpoint failed (a full disk); the previous one is intact."""


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write `state` atomically with its checksum. A failed write (a full disk) raises
    CheckpointNotSaved with the reason, and leaves the previous file and no temp file behind."""
    state = _on_cpu(state)  # copied off the device once, for the checksum and the file alike
    state["integrity"] = {"crc32": tensor_checksum(state)}
    try:
        atomic_write(path, lambda f: torch.save(state, f))
    except OSError as exc:
        raise CheckpointNotSaved("disk full" if exc.errno in DISK_FULL else exc.strerror or str(exc)) from None
    except RuntimeError as exc:  # torch's zip writer reports a failed write as "unexpected pos ..."
        raise CheckpointNotSaved("disk full" if _looks_like_failed_write(exc) else str(exc)) from None


def _looks_like_failed_write(exc: RuntimeError) -> bool:
    text = str(exc)
    return "unexpected pos" in text or "file write failed" in text or "No space left" in text


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise RunError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged file must not crash the caller with a pickle trace
        raise RunError(f"checkpoint {path} is unreadable ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise RunError(f"checkpoint {path} is not an sslstudio checkpoint")
    written = state.pop("integrity", {}).get("crc32")  # checkpoints from before checksums have none
    if written is not None and written != tensor_checksum(state):
        raise RunError(f"checkpoint {path} is damaged: its weights do not match the checksum written with them")
    if not all_finite(state["model"]):
        raise RunError(f"checkpoint {path} holds weights that are not finite (NaN or infinity)")
    return state


def all_finite(weights: dict) -> bool:
    """Whether every float tensor of a state_dict is finite: NaN weights load and train, then end as a NaN loss."""
    return all(torch.isfinite(t).all() for t in weights.values() if t.is_floating_point())


def _on_cpu(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {key: _on_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_on_cpu(item) for item in value)
    return value


def tensor_checksum(state) -> int:
    """CRC-32 over the bytes of every tensor in `state`, in a fixed order (dict keys sorted)."""
    crc = 0

    def walk(value) -> None:
        nonlocal crc
        if isinstance(value, torch.Tensor):
            data = value.detach().cpu().contiguous().reshape(-1)  # a no-op for what save_checkpoint passes
            crc = zlib.crc32(data.view(torch.uint8).numpy() if data.numel() else b"", crc)
        elif isinstance(value, dict):
            for key in sorted(value, key=str):
                walk(value[key])
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(state)
    return crc


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


def load_into(module: torch.nn.Module, weights: dict, path: Path) -> None:
    """load_state_dict, with a mismatch (weights of another backbone or task) as one line."""
    try:
        module.load_state_dict(weights)
    except RuntimeError as exc:
        details = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
        first = details[0] if details else str(exc)
        raise RunError(f"checkpoint {path} does not fit the run's config.json (weights of another backbone or "
                       f"task?): {first[:200]}") from None

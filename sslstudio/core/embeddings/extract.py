"""Run a trained backbone over samples, a batch at a time, and store the embeddings.

The inputs stream from the sample store (the next batch is read while this one runs), and the
vectors go into an array that is either in memory or, for a large folder, a `.npy` file filled
chunk by chunk: memory holds one batch of inputs, never the folder's.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from sslstudio.core.data.dataset import SampleSet
from sslstudio.core.progress import Progress
from sslstudio.core.training.device import resolve_device
from sslstudio.core.training.session import LoadedRun

Into = Callable[[int], np.ndarray]  # the (N, dim) array to fill, given dim


@torch.no_grad()  # not inference_mode: the backbone's parameters change layout here, and may train later
def compute_embeddings(run: LoadedRun, samples: SampleSet, batch_size: int = 256, device: str = "auto",
                       progress: Progress | None = None, into: Into | None = None) -> np.ndarray:
    """(N, D) float32 embeddings, in the order of `samples`.

    `into(dim)` gives the array to fill (`NpyRows`, a file, for a large folder); by default an array in
    memory. Image and spectrogram batches run channels-last, which PyTorch's convolutions take about 1.8
    times faster on a CPU (bench/finetune_scale.py); the backbone is given back in its own layout."""
    target = resolve_device(device)
    backbone = run.backbone.to(target).eval()
    preprocess = run.pipeline.preprocess.to(target).eval()

    def embed(raw: torch.Tensor) -> np.ndarray:
        inputs = preprocess(raw.to(target, non_blocking=True))
        if inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return backbone(inputs).float().cpu().numpy()

    backbone.to(memory_format=torch.channels_last)
    try:
        return per_batch(run.pipeline, samples, embed, batch_size, progress, into)
    finally:
        backbone.to(memory_format=torch.contiguous_format)


def per_batch(pipeline, samples: SampleSet, compute: Callable[[torch.Tensor], np.ndarray], batch_size: int = 256,
              progress: Progress | None = None, into: Into | None = None) -> np.ndarray:
    """compute(raw batch) -> (B, D) rows, for every evaluation batch of the samples, in one (N, D) array."""
    rows, done = None, 0
    for raw in pipeline.eval_batches(samples, batch_size):
        chunk = compute(raw)
        if rows is None:
            rows = (into or (lambda dim: np.empty((len(samples), dim), np.float32)))(chunk.shape[1])
        rows[done:done + len(chunk)] = chunk
        done += len(chunk)
        if progress is not None:
            progress(done, len(samples))
    return rows


class FeatureFile:
    """A (N, D) float32 matrix in a `.npy` file, read by rows; each read maps the file only for as long as it
    copies the rows out, so a pass over every row does not leave the file in the process's memory. Code
    that needs the whole matrix (suggestions, the neighbour index) gets it with np.asarray."""

    def __init__(self, path: Path):
        self.path = Path(path)
        header = np.load(self.path, mmap_mode="r")
        self.shape, self.dtype = header.shape, header.dtype
        del header

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        mapped = np.load(self.path, mmap_mode="r")
        try:
            return np.array(mapped[rows])
        finally:
            del mapped

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The whole matrix in one read (numpy would otherwise ask for it row by row)."""
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype)


class NpyRows:
    """A float32 (n, dim) `.npy` file written row block by row block, in order (what `per_batch` fills).

    Plain writes, not a memory map: a mapped file's written pages count in the process's RSS until the
    kernel drops them, and 200k embeddings are a gigabyte."""

    def __init__(self, path: Path, n: int, dim: int):
        self.shape, self.written = (n, dim), 0
        self.file = open(path, "wb")
        np.lib.format.write_array_header_1_0(self.file, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                                                         "fortran_order": False, "shape": self.shape})

    def __setitem__(self, rows: slice, block: np.ndarray) -> None:
        if rows.start != self.written:
            raise ValueError(f"rows must come in order: expected {self.written}, got {rows.start}")
        self.file.write(np.ascontiguousarray(block, dtype=np.float32).tobytes())
        self.written = rows.stop

    def close(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        if self.written != self.shape[0]:
            raise ValueError(f"{self.written} of {self.shape[0]} rows written")

"""Input pipelines: stored samples -> a raw batch tensor -> the model's input.

The raw batch is what a task's `make_batch` takes: uint8 images at the stored side, (B, 3, S, S) in
shape and channels last in memory, as stored (the task crops them), float waveforms cut to the clip
length, or token ids. It is read from the sample store a batch at a time, never the whole folder at
once. Training reads random windows of audio and text, drawn from a seed, so a preview made with the
same seed shows the same windows; evaluation reads the centre of each image and clip and the beginning
of each text.

`preprocess` is an nn.Module (normalisation, log-mel), so it moves to the device with the model
and is exported with it. Its statistics are fitted once on the pretraining data and saved with
the run, so embedding and probing use exactly what training used.
"""
from __future__ import annotations

import hashlib
import json
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sslstudio.core.data.dataset import SampleSet
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.data.records import FileBlob
from sslstudio.core.io import atomic_write_text
from sslstudio.core.models.tokenizer import CLS_ID, SEP_ID, train_tokenizer

N_MELS = 64
STATISTICS_SAMPLES = 1024  # the input statistics are fitted on this many samples, spread over the folder
STATISTICS_CHUNK_BYTES = 8 << 20  # float32 per chunk while fitting them


class ImageNormalize(nn.Module):
    """uint8 (B,3,H,W), or float already in [0, 1] (augmented views), -> float standardised per channel."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.full((1, 3, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, 3, 1, 1), 0.25))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        unit = x.float() / 255.0 if x.dtype == torch.uint8 else x
        return (unit - self.mean) / self.std

    def to_display(self, x: torch.Tensor) -> np.ndarray:
        """Model input back to uint8 HWC images, for previews."""
        pixels = ((x * self.std + self.mean).clamp(0, 1) * 255).round().byte()
        return pixels.permute(0, 2, 3, 1).cpu().numpy()


class LogMel(nn.Module):
    """Waveform (B,T) -> standardised log-mel (B,1,mels,frames): 25 ms windows, 10 ms hop."""

    def __init__(self, sample_rate: int):
        super().__init__()
        import torchaudio

        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=int(0.025 * sample_rate) if sample_rate >= 8000 else 256,
            hop_length=int(0.010 * sample_rate), n_mels=N_MELS)
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("std", torch.ones(()))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        spec = torch.log(self.mel(wave.float()) + 1e-6)
        return ((spec - self.mean) / self.std).unsqueeze(1)


class Pipeline:
    """One modality's raw-tensor builder, preprocess module and (for text) tokenizer."""

    def __init__(self, modality: str, spec: InputSpec, tokenizer=None):
        self.modality = modality
        self.spec = spec
        self.tokenizer = tokenizer
        self._untruncated = None  # the tokenizer without its cut at text_tokens, for the token cache
        if modality == "image":
            self.preprocess: nn.Module = ImageNormalize()
        elif modality == "audio":
            self.preprocess = LogMel(spec.sample_rate)
        else:
            self.preprocess = nn.Identity()

    # -- fitting on the pretraining data
    @classmethod
    def fit(cls, samples: SampleSet, chunk_bytes: int = STATISTICS_CHUNK_BYTES) -> Pipeline:
        tokenizer = None
        if samples.modality == "text":
            tokenizer = train_tokenizer(_texts_in_chunks(samples), samples.spec.vocab_size, samples.spec.text_tokens,
                                        length=len(samples))
        pipeline = cls(samples.modality, samples.spec, tokenizer)
        chosen = np.unique(np.linspace(0, len(samples) - 1, min(len(samples), STATISTICS_SAMPLES)).astype(np.int64))
        pipeline._fit_statistics(samples, chosen, chunk_bytes)
        return pipeline

    @torch.no_grad()
    def _fit_statistics(self, samples: SampleSet, chosen: np.ndarray, chunk_bytes: int) -> None:
        """Mean and std of the chosen samples, read a chunk of about `chunk_bytes` of float32 at a time: 1024
        images at 224 px are 616 MB at once, and memory must follow the batch, not this sample."""
        if self.modality == "text":
            self.eval_raw(samples, chosen[:1])  # encodes the folder's token ids into the store now, once
            return
        per_sample = 3 * self.spec.image_size ** 2 if self.modality == "image" else self.spec.audio_samples
        moments = _Moments()
        for raw in self.eval_batches(samples, max(1, chunk_bytes // (4 * per_sample)), chosen):
            if self.modality == "image":
                moments.add(raw.float() / 255.0, dims=(0, 2, 3))
            else:
                moments.add(torch.log(self.preprocess.mel(raw) + 1e-6), dims=None)
        mean, std = moments.mean_std()
        shape = (1, 3, 1, 1) if self.modality == "image" else ()
        self.preprocess.mean.copy_(mean.view(shape))
        self.preprocess.std.copy_(std.clamp(min=1e-3).view(shape))

    # -- raw batches
    def training_raw(self, samples: SampleSet, indices: Sequence[int] | np.ndarray, seed: int,
                     pin: bool = False) -> torch.Tensor:
        """The raw batch a task's `make_batch` takes; audio and text windows drawn from `seed`."""
        index = np.asarray(indices, dtype=np.int64)
        records = samples.records
        if self.modality == "image":
            out = _empty((len(index), records.side, records.side, 3), torch.uint8, pin)
            records.images(index, out.numpy())
            return out.permute(0, 3, 1, 2)  # (B, 3, S, S), channels last in memory
        rng = np.random.default_rng(seed)
        if self.modality == "audio":
            window = self.spec.audio_samples
            lengths = records.clip_lengths()[index]
            starts = np.floor(rng.random(len(index)) * np.maximum(lengths - window + 1, 1)).astype(np.int64)
            out = _empty((len(index), window), torch.float32, pin)
            records.audio(index, window, starts, out.numpy())
            return out
        return self._token_ids(samples, index, rng, pin)

    def eval_raw(self, samples: SampleSet, indices: Sequence[int] | np.ndarray | None = None) -> torch.Tensor:
        """The raw batch for embedding, probing and export: the centre of each image and clip, the
        beginning of each text."""
        index = np.arange(len(samples)) if indices is None else np.asarray(indices, dtype=np.int64)
        records = samples.records
        if self.modality == "image":
            side, size = records.side, self.spec.image_size
            margin = (side - size) // 2
            stored = records.images(index)
            centre = np.ascontiguousarray(stored[:, margin:margin + size, margin:margin + size])
            return torch.from_numpy(centre).permute(0, 3, 1, 2)
        if self.modality == "audio":
            return torch.from_numpy(records.audio(index, self.spec.audio_samples))
        return self._token_ids(samples, index, None, False)

    def export_raw(self, samples: SampleSet, indices: Sequence[int] | np.ndarray) -> torch.Tensor:
        """What an exported model is checked on: whole stored images (it crops inside, as `model_view`),
        the evaluation windows of audio and text."""
        if self.modality == "image":
            return torch.from_numpy(samples.records.images(np.asarray(indices, dtype=np.int64))).permute(0, 3, 1, 2)
        return self.eval_raw(samples, indices)

    def model_view(self, raw: torch.Tensor) -> torch.Tensor:
        """The centre `image_size` square of larger images (what evaluation takes of a stored image)."""
        size = self.spec.image_size
        if self.modality != "image" or raw.shape[-1] <= size:
            return raw
        top, left = (raw.shape[-2] - size) // 2, (raw.shape[-1] - size) // 2
        return raw[..., top:top + size, left:left + size]

    def eval_batches(self, samples: SampleSet, batch_size: int = 256,
                     indices: Sequence[int] | np.ndarray | None = None) -> Iterator[torch.Tensor]:
        """`eval_raw` in batches, the next one read on a thread while the caller works on this one."""
        index = np.arange(len(samples)) if indices is None else np.asarray(indices, dtype=np.int64)
        chunks = [index[i:i + batch_size] for i in range(0, len(index), batch_size)]
        yield from _read_ahead(lambda chunk: self.eval_raw(samples, chunk), chunks)

    # -- text: token ids per tokenizer, kept in the store
    def _token_ids(self, samples: SampleSet, index: np.ndarray, rng: np.random.Generator | None,
                   pin: bool) -> torch.Tensor:
        length = self.spec.text_tokens
        body = length - 2
        rows = self._token_rows(samples, index)
        out = _empty((len(index), length), torch.long, pin)
        out.zero_()
        ids = out.numpy()
        draws = rng.random(len(index)) if rng is not None else np.zeros(len(index))
        for i, row in enumerate(rows):
            start = int(draws[i] * max(len(row) - body + 1, 1))
            window = row[start:start + body]
            ids[i, 0], ids[i, 1:1 + len(window)], ids[i, 1 + len(window)] = CLS_ID, window, SEP_ID
        return out

    def _token_rows(self, samples: SampleSet, index: np.ndarray) -> list[np.ndarray]:
        records = samples.records
        key = self.tokenizer_hash if records.store is not None else None
        table = records.token_tables.get(key) if key else None
        if key and table is None:
            store = records.store
            found = store.token_rows(key, records.offsets)
            if found is None and store.add_tokens(key, records.offsets,
                                                  lambda rows: self._encode(samples.texts(rows))):
                found = store.token_rows(key, records.offsets)
            if found is not None:
                table = records.token_tables[key] = (FileBlob(store.tokens_path(key)), *found)
        if table is None:  # a few decoded files, or another job is writing token ids: tokenize these now
            return self._encode(records.texts(index))
        blob, token_offsets, counts = table
        rows = []
        for i in index:
            row = np.empty(int(counts[i]), dtype="<u2")
            blob.read_into(int(token_offsets[i]), memoryview(row).cast("B"))
            rows.append(row.astype(np.int64))
        return rows

    def _encode(self, texts: list[str]) -> list[np.ndarray]:
        if self._untruncated is None:
            from tokenizers import Tokenizer

            self._untruncated = Tokenizer.from_str(self.tokenizer.to_str())
            self._untruncated.no_truncation()
        cut = [text[:TEXT_CHAR_CAP] for text in texts]
        return [np.array(e.ids[:TEXT_TOKEN_CAP], dtype=np.int64)
                for e in self._untruncated.encode_batch(cut, add_special_tokens=False)]

    @property
    def tokenizer_hash(self) -> str:
        return hashlib.sha1(self.tokenizer.to_str().encode("utf-8")).hexdigest()[:16]

    def backbone_context(self) -> dict:
        vocab = self.tokenizer.get_vocab() if self.tokenizer is not None else {}
        return {"vocab_size": len(vocab), "vocab": vocab, "max_tokens": self.spec.text_tokens,
                "image_size": self.spec.image_size}

    # -- persistence beside a run, and passing between processes
    def to_state(self) -> dict:
        stats = {k: v.tolist() for k, v in self.preprocess.state_dict().items() if k in ("mean", "std")}
        return {"modality": self.modality, "spec": asdict(self.spec), "statistics": stats,
                "tokenizer": self.tokenizer.to_str() if self.tokenizer is not None else None}

    @classmethod
    def from_state(cls, state: dict) -> Pipeline:
        tokenizer = None
        if state.get("tokenizer"):
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_str(state["tokenizer"])
        pipeline = cls(state["modality"], InputSpec(**state["spec"]), tokenizer)
        for name, value in state["statistics"].items():
            getattr(pipeline.preprocess, name).copy_(torch.tensor(value))
        return pipeline

    def save(self, run_dir: Path) -> None:
        state = self.to_state()
        tokenizer = state.pop("tokenizer")
        atomic_write_text(run_dir / "pipeline.json", json.dumps(state, indent=1))
        if tokenizer is not None:
            atomic_write_text(run_dir / "tokenizer.json", tokenizer)

    @classmethod
    def load(cls, run_dir: Path) -> Pipeline:
        state = json.loads((run_dir / "pipeline.json").read_text())
        if state["modality"] == "text":
            state["tokenizer"] = (run_dir / "tokenizer.json").read_text(encoding="utf-8")
        return cls.from_state(state)


TEXT_TOKEN_CAP = 4096  # tokens kept per text; training windows are drawn within them
TEXT_CHAR_CAP = 16 * TEXT_TOKEN_CAP


def _texts_in_chunks(samples: SampleSet, chunk: int = 4096) -> Iterator[str]:
    for start in range(0, len(samples), chunk):
        yield from samples.texts(range(start, min(start + chunk, len(samples))))


class _Moments:
    """Running mean and unbiased std over chunks, in float64 and shifted by the first chunk's mean, so that the
    sums of squares do not cancel."""

    def __init__(self):
        self.count = 0
        self.shift = self.total = self.squares = None

    def add(self, values: torch.Tensor, dims: tuple | None) -> None:
        reduce = dims if dims is not None else tuple(range(values.dim()))
        if self.shift is None:
            self.shift = values.mean(dim=reduce, keepdim=True, dtype=torch.float64)
            self.total = self.squares = 0.0
        centred = values - self.shift.float()
        self.total = self.total + centred.sum(dim=reduce, dtype=torch.float64)
        self.squares = self.squares + centred.square_().sum(dim=reduce, dtype=torch.float64)
        self.count += values.numel() // self.shift.numel()

    def mean_std(self) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.total / self.count
        variance = (self.squares - self.total * mean) / max(1, self.count - 1)
        return (mean + self.shift.flatten()).float(), variance.clamp(min=0).sqrt().float()


def _empty(shape: tuple, dtype: torch.dtype, pin: bool) -> torch.Tensor:
    return torch.empty(shape, dtype=dtype, pin_memory=pin)


def _read_ahead(read, chunks: list, depth: int = 2) -> Iterator:
    """read(chunk) for each chunk, done on a thread `depth` chunks ahead of the consumer."""
    if len(chunks) <= 1:
        yield from (read(c) for c in chunks)
        return
    ready: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        for chunk in chunks:
            try:
                item = (read(chunk), None)
            except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
                item = (None, exc)
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set() or item[1] is not None:
                return

    thread = threading.Thread(target=produce, name="sslstudio-read-ahead", daemon=True)
    thread.start()
    try:
        for _ in chunks:
            value, error = ready.get()
            if error is not None:
                raise error
            yield value
    finally:
        stop.set()
        thread.join()

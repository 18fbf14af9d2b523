"""Take a trained backbone (and optionally a probe head) out of the app, with its preprocessing inside.

Formats:
- `torchscript`: one `.pt` file for `torch.jit.load`;
- `onnx`: one `.onnx` file for onnxruntime and friends;
- `state_dict`: the backbone's plain `state_dict`, for code that builds the architecture itself.
  A `resnet18` backbone's keys are torchvision's, so
  `torchvision.models.resnet18(num_classes=...)` with the CIFAR stem loads it (see README).

The exported graph takes what a user has, not what the training loop used:
- images: uint8 (B, 3, H, W); resized inside to the side the app stores them at (8/7 of the input size),
  then the centre input-size square is normalised, the view the app embeds (crop a photo to a square
  first for exactly the app's view: the app resizes the shorter side);
- audio: float waveforms (B, T) at the run's sample rate; log-mel inside;
- text: token ids (B, L) from the run's tokenizer, written alongside as `tokenizer.json`.
It returns the embedding (B, D), and with a probe head also the class logits (B, C).

Every export is checked before it is reported as done: the written file is
loaded back and run on held-out samples, and its outputs are compared with the
in-app model's (largest absolute difference, top-1 agreement). An export that
disagrees fails with `ExportMismatch` and the file is removed. A top-1 choice
that differs only where the in-app scores are tied to within what the measured
numeric difference can move them (near-duplicate samples, near-equal logits) is
a near-tie, counted as agreement and reported as such.
"""
from __future__ import annotations

import contextlib
import json
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sslstudio.core.data.labels import few_shot_split
from sslstudio.core.data.records import stored_side
from sslstudio.core.embeddings.extract import compute_embeddings
from sslstudio.core.errors import UserError
from sslstudio.core.export_settings import FORMATS, ExportSettings
from sslstudio.core.io import atomic_write, atomic_write_text
from sslstudio.core.models.backbones import has_library_keys
from sslstudio.core.progress import Progress, tame_tqdm
from sslstudio.core.training.session import LoadedRun

TOLERANCE = 1e-4  # largest absolute difference allowed in fp32


class ExportMismatch(UserError):
    """The exported file does not reproduce the in-app model."""


@dataclass
class ParityReport:
    samples: int
    max_abs_diff: float  # on the embeddings
    top1_agreement: float  # on logits with a head; else on each sample's nearest neighbour
    passed: bool
    logits_max_abs_diff: float | None = None  # with a head
    logits_allowed: float | None = None  # what the embeddings' difference can explain through the head
    near_ties: int = 0  # top-1 choices that differ where the app's own scores are tied within the difference

    def to_dict(self) -> dict:
        return asdict(self)

    def agreement_text(self) -> str:
        ties = self.near_ties
        return f"top-1 agreement {self.top1_agreement:.1%}" + (
            f" ({ties} near-tie{'s' if ties > 1 else ''} within tolerance)" if ties else "")


@dataclass
class ProbeHead:
    """A linear classifier on embeddings: logits = embedding @ weight.T + bias, for `classes`."""

    weight: np.ndarray  # (C, D)
    bias: np.ndarray  # (C,)
    classes: list[str]

    @classmethod
    def from_sklearn(cls, pipeline) -> ProbeHead:
        """Fold a StandardScaler + LogisticRegression pipeline into one linear layer."""
        scaler, logistic = pipeline[0], pipeline[-1]
        scale = np.asarray(scaler.scale_, dtype=np.float64)
        mean = np.asarray(scaler.mean_, dtype=np.float64)
        coef, intercept = np.asarray(logistic.coef_, dtype=np.float64), np.asarray(logistic.intercept_, np.float64)
        if coef.shape[0] == 1:  # binary: scikit-learn keeps one row, the logit of the second class
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
        weight = coef / scale
        bias = intercept - weight @ mean
        return cls(weight.astype(np.float32), bias.astype(np.float32), [str(c) for c in logistic.classes_])


class ConvLogMel(nn.Module):
    """The run's log-mel as a strided convolution with windowed cos/sin kernels, for ONNX.

    onnxruntime's STFT differed from torch's by up to 1e-4 in the final embeddings; a
    convolution is exported as one plain Conv node and lands within a few 1e-6.
    """

    def __init__(self, log_mel: nn.Module):
        super().__init__()
        spectrogram = log_mel.mel.spectrogram
        n_fft, hop = spectrogram.n_fft, spectrogram.hop_length
        window = spectrogram.window.double()
        time = torch.arange(n_fft, dtype=torch.float64)
        freq = torch.arange(n_fft // 2 + 1, dtype=torch.float64)
        angle = 2 * torch.pi * freq[:, None] * time[None, :] / n_fft
        kernels = torch.cat([torch.cos(angle) * window, -torch.sin(angle) * window])[:, None, :]
        self.register_buffer("kernels", kernels.float())
        self.register_buffer("filterbank", log_mel.mel.mel_scale.fb.float())
        self.register_buffer("mean", log_mel.mean.clone())
        self.register_buffer("std", log_mel.std.clone())
        self.n_fft, self.hop, self.bins = n_fft, hop, n_fft // 2 + 1

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        padded = F.pad(wave.float()[:, None, :], (self.n_fft // 2, self.n_fft // 2), mode="reflect")
        parts = F.conv1d(padded, self.kernels, stride=self.hop)  # (B, 2 * bins, frames)
        power = parts[:, :self.bins] ** 2 + parts[:, self.bins:] ** 2
        mel = torch.matmul(power.transpose(1, 2), self.filterbank).transpose(1, 2)
        return ((torch.log(mel + 1e-6) - self.mean) / self.std).unsqueeze(1)


class ExportedModel(nn.Module):
    """Preprocessing, backbone and optional head as one module."""

    def __init__(self, run: LoadedRun, head: ProbeHead | None = None, for_onnx: bool = False):
        super().__init__()
        self.modality = run.modality
        self.image_size = int(run.pipeline.spec.image_size)
        self.stored_side = stored_side(self.image_size)
        self.preprocess = run.pipeline.preprocess
        if for_onnx and run.modality == "audio":
            self.preprocess = ConvLogMel(run.pipeline.preprocess)
        self.backbone = run.backbone
        self.head = None
        if head is not None:
            self.head = nn.Linear(head.weight.shape[1], head.weight.shape[0])
            with torch.no_grad():
                self.head.weight.copy_(torch.from_numpy(head.weight))
                self.head.bias.copy_(torch.from_numpy(head.bias))

    def forward(self, x: torch.Tensor):
        if self.modality == "image":
            # Resizing an image already at the stored side leaves it unchanged.
            x = F.interpolate(x.float(), size=(self.stored_side, self.stored_side), mode="bilinear",
                              align_corners=False)
            margin = (self.stored_side - self.image_size) // 2
            x = x[:, :, margin:margin + self.image_size, margin:margin + self.image_size]
            x = self.preprocess(x / 255.0)
        else:
            x = self.preprocess(x)
        embedding = self.backbone(x)
        if self.head is None:
            return embedding
        return embedding, self.head(embedding)


def export(run: LoadedRun, out: str | os.PathLike, fmt: str, check_inputs: torch.Tensor,
           head: ProbeHead | None = None) -> ParityReport | None:
    """Write the run's model in `fmt` to `out`, check it on `check_inputs` (raw tensors), and return
    the check's report (None for `state_dict`, which is checked by loading it into a fresh backbone)."""
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = ExportedModel(run, head, for_onnx=fmt == "onnx").eval().cpu()
    example = check_inputs[:2].cpu()
    if fmt == "state_dict":
        _write_state_dict(run, out)
        _write_sidecars(run, out, head)
        return None
    if fmt == "torchscript":
        with torch.no_grad(), _quiet_torchscript():
            traced = torch.jit.trace(model, example, check_trace=False)
            atomic_write(out, lambda f: torch.jit.save(traced, f))
    else:
        _write_onnx(model, example, out)
    _write_sidecars(run, out, head)
    report = check_parity(run, model.head, out, fmt, check_inputs.cpu())
    if not report.passed:
        out.unlink(missing_ok=True)
        logits = (f", logits {report.logits_max_abs_diff:.2e} (allowed {report.logits_allowed:.2e})"
                  if report.logits_max_abs_diff is not None else "")
        raise ExportMismatch(f"the exported {fmt} {run.modality} model disagrees with the app's: embeddings max "
                             f"abs difference {report.max_abs_diff:.2e} (allowed {TOLERANCE:.0e}){logits}, "
                             f"{report.agreement_text()}; nothing was kept")
    return report


@contextlib.contextmanager
def _quiet_torchscript():
    """torch 2.11 marks TorchScript deprecated; it is still what many deployment targets load."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="torch.jit")
        yield


def _write_state_dict(run: LoadedRun, out: Path) -> None:
    state = run.backbone.state_dict()
    if has_library_keys(run.config["backbone"]):
        state = {key.removeprefix("net."): value for key, value in state.items()}
    atomic_write(out, lambda f: torch.save(state, f))


_onnx_thread: ThreadPoolExecutor | None = None


def _write_onnx(model: nn.Module, example: torch.Tensor, out: Path) -> None:
    """Every ONNX export of the process runs on one long-lived thread. torch.export keeps per-thread state, and
    an export on a second thread after the first one's thread has ended crashed the process (segmentation
    fault in FakeTensorMode): the workbench runs each export as a job on a thread of its own."""
    global _onnx_thread
    if _onnx_thread is None:
        _onnx_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sslstudio-onnx-export")
    _onnx_thread.submit(_export_onnx, model, example, out).result()


def _export_onnx(model: nn.Module, example: torch.Tensor, out: Path) -> None:
    tame_tqdm()  # the exporter's tracer makes tqdm bars on this thread
    batch = torch.export.Dim("batch", min=1, max=4096)
    tmp = out.with_name(out.name + ".partial")
    with warnings.catch_warnings():  # the exporter narrates its progress through warnings
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (example,), dynamo=True, dynamic_shapes=({0: batch},),
                                    input_names=["input"], verbose=False)
        program.save(str(tmp))
    os.replace(tmp, out)


def _write_sidecars(run: LoadedRun, out: Path, head: ProbeHead | None) -> None:
    """What a user of the file needs to feed it: input format, classes, and the tokenizer for text."""
    spec = run.pipeline.spec
    info = {"modality": run.modality, "backbone": run.config["backbone"], "task": run.config["task"],
            "checkpoint": run.checkpoint.name if run.checkpoint else None,
            "input": {"image": f"uint8 (B, 3, H, W) square images, resized inside to {stored_side(spec.image_size)}"
                               f" px, of which the centre {spec.image_size}x{spec.image_size} is used",
                      "audio": f"float32 waveform (B, T) at {spec.sample_rate} Hz, mono",
                      "text": f"int64 token ids (B, {spec.text_tokens}) from tokenizer.json, 0-padded"}[run.modality],
            "outputs": ["embedding"] + (["logits"] if head is not None else []),
            "classes": head.classes if head is not None else None}
    atomic_write_text(out.with_name(out.name + ".json"), json.dumps(info, indent=1))
    if run.modality == "text" and run.pipeline.tokenizer is not None:
        atomic_write_text(out.with_name("tokenizer.json"), run.pipeline.tokenizer.to_str())


def run_exported(path: Path, fmt: str, inputs: torch.Tensor) -> list[np.ndarray]:
    """Outputs of an exported file, through the runtime a user would use."""
    if fmt == "torchscript":
        with _quiet_torchscript():
            module = torch.jit.load(str(path), map_location="cpu")
        with torch.no_grad():
            outputs = module(inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return [o.numpy() for o in outputs]
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: inputs.numpy()})


def in_app_outputs(run: LoadedRun, inputs: torch.Tensor, head: nn.Module | None) -> list[np.ndarray]:
    """What the app computes for raw inputs: the embedding as extraction does it, and the head's logits."""
    with torch.no_grad():
        embedding = run.backbone.cpu().eval()(run.pipeline.preprocess.cpu()(run.pipeline.model_view(inputs)))
        return [embedding.numpy()] + ([head(embedding).numpy()] if head is not None else [])


def check_parity(run: LoadedRun, head: nn.Module | None, path: Path, fmt: str, inputs: torch.Tensor) -> ParityReport:
    expected = in_app_outputs(run, inputs, head)
    actual = run_exported(path, fmt, inputs)
    diff = float(np.abs(expected[0] - actual[0]).max())
    logits_diff = allowed = None
    if len(expected) > 1:
        # A probe folded from standardised features can have large weights, which magnify the
        # embeddings' last-bit differences. The logits must agree to within what those differences
        # explain through the head (its largest row of absolute weights), plus fp32 rounding.
        gain = float(head.weight.detach().abs().sum(dim=1).max())
        allowed = TOLERANCE * max(1.0, float(np.abs(expected[1]).max())) + gain * diff
        logits_diff = float(np.abs(expected[1] - actual[1]).max())
        agreement, near_ties = top1_agreement(expected[1], actual[1], allowed)
    else:  # cosine similarities, within the embeddings' tolerance
        agreement, near_ties = top1_agreement(_neighbour_scores(expected[0]), _neighbour_scores(actual[0]), TOLERANCE)
    passed = diff <= TOLERANCE and agreement == 1.0 and (logits_diff is None or logits_diff <= allowed)
    return ParityReport(len(inputs), diff, agreement, passed, logits_diff, allowed, near_ties)


def top1_agreement(reference: np.ndarray, other: np.ndarray, tolerance: float) -> tuple[float, int]:
    """The share of rows whose top-1 column agrees, and how many of the agreeing rows are near-ties.

    Every score may be off by the largest difference measured between the two (up to `tolerance`), so
    the gap between two scores may shrink by twice that: where `other` picks a column whose reference
    score is within that of the reference's best, the two are tied as far as the numbers can tell, and
    that counts as agreement. Any larger gap is a real disagreement."""
    finite = np.isfinite(reference) & np.isfinite(other)
    measured = float(np.abs(np.where(finite, reference, 0) - np.where(finite, other, 0)).max(initial=0.0))
    slack = 2 * min(measured, tolerance)
    rows = np.arange(len(reference))
    best, picked = reference.argmax(1), other.argmax(1)
    differ = best != picked
    tied = differ & (reference[rows, best] - reference[rows, picked] <= slack)
    return 1.0 - float((differ & ~tied).mean()), int(tied.sum())


def _neighbour_scores(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity of every sample to every other (itself excluded): each row's top-1 is its nearest neighbour."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    return similarity


def export_with_probe(run: LoadedRun, out: str | os.PathLike, settings: ExportSettings, samples,
                      labels: np.ndarray | None = None,
                      vectors: np.ndarray | None = None,
                      progress: Progress | None = None) -> tuple[ParityReport | None, ProbeHead | None]:
    """Export `run`, with a linear probe head fitted on the labelled samples when `labels` are given ("" for
    none), checked on held-out samples. The CLI's `export` and the Fine-tune page's "Export…" both call this.

    With `per_class` > 0 the head learns from that many per class and the check uses the rest; else it
    learns from every labelled sample. `vectors`: the samples' embeddings, when already computed; else
    `progress` follows their computation.
    """
    from sslstudio.core.evaluation.classifiers import fit_linear  # scikit-learn

    head, pool = None, samples
    if labels is not None:
        labelled = np.flatnonzero(labels != "")
        if not len(labelled):
            raise UserError("no labelled samples to fit the probe head on")
        train = held_out = labelled
        if settings.per_class > 0:
            groups = samples.groups()
            picked, rest = few_shot_split(labels[labelled], settings.per_class, settings.seed,
                                          [samples.splits[i] for i in labelled] if samples.splits else None,
                                          None if groups is None else groups[labelled])
            train, held_out = labelled[picked], labelled[rest]
        features = vectors[train] if vectors is not None else compute_embeddings(run, samples.subset(train),
                                                                                       progress=progress)
        head = ProbeHead.from_sklearn(fit_linear(features, labels[train], settings.seed))
        pool = samples.subset(held_out)
    rng = np.random.default_rng(settings.seed)
    chosen = np.sort(rng.choice(len(pool), min(settings.check_samples, len(pool)), replace=False))
    return export(run, out, settings.format, run.pipeline.export_raw(pool, chosen), head), head

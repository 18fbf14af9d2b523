"""DINO: a student network matches a momentum teacher's sharpened, centred output over prototypes, across
global and local crops of each image (multi-crop).

Caron et al., "Emerging Properties in Self-Supervised Vision Transformers", ICCV 2021. As there: a 3-layer
head to a normalised bottleneck and a normalised prototype layer, the teacher an exponential moving
average of the student (momentum from `ema_start` to 1 on a cosine), its temperature warmed up from
`teacher_temp_start` over the first 30 % of the budget, and its outputs centred on a running mean. The
teacher sees the two global crops; the student sees them and `local_crops` small ones, and must say
from a small patch what the teacher says from a large view. Any image backbone works, CNN or ViT (a
global-pooling CNN and timm's ViTs take the smaller local crops as they are). Small-image defaults:
global crops from 25 % of the image, local crops at half the side.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sslstudio.core.errors import ArgsError
from sslstudio.core.losses.dino import dino_loss, entropy
from sslstudio.core.tasks.args import setting
from sslstudio.core.tasks.base import Batch, PreviewItem, PreviewSample, TaskOutput, make_generator
from sslstudio.core.tasks.momentum import cosine_momentum, follow
from sslstudio.core.tasks.two_views import TwoViewTask, ViewArgs, _describe

TEACHER_WARMUP = 0.3  # share of the budget over which the teacher's temperature rises


@dataclass(frozen=True)
class DINOArgs(ViewArgs):
    crop_min_scale: float = setting(0.25, "Smallest global crop, as a share of the image area.", min=0.05, max=1.0)
    local_crops: int = setting(4, "Small crops of each image that only the student sees (0: no multi-crop).",
                               min=0, max=10)
    local_min_scale: float = setting(0.05, "Smallest local crop, as a share of the image area; the largest is "
                                           "the smallest global crop.", min=0.01, max=1.0)
    local_size: float = setting(0.5, "Side of the local crops, as a share of the input size.", min=0.25, max=1.0)
    prototypes: int = setting(4096, "Outputs of the head the two softmaxes run over (the paper: 65,536).",
                              min=64, max=65536)
    hidden_dim: int = setting(1024, "Hidden width of the 3-layer head (the paper: 2048).", min=16, max=8192)
    projection_dim: int = setting(256, "Width of the normalised bottleneck before the prototypes.", min=8, max=4096)
    student_temp: float = setting(0.1, "Temperature of the student's softmax.", min=0.01, max=1.0)
    teacher_temp: float = setting(0.07, "Temperature of the teacher's softmax after warm-up (lower is sharper).",
                                  min=0.01, max=1.0)
    teacher_temp_start: float = setting(0.04, "The teacher's temperature at the start.", min=0.01, max=1.0)
    centre_momentum: float = setting(0.9, "Momentum of the running mean that centres the teacher.", min=0.0, max=1.0)
    ema_start: float = setting(0.996, "Momentum of the teacher at the start; it rises to 1 by the end.",
                               min=0.9, max=1.0)

    def check(self) -> None:
        if self.local_crops and self.local_min_scale > self.crop_min_scale:
            raise ArgsError("setting 'local_min_scale' must not exceed 'crop_min_scale' (the local crops are the "
                            "small ones)")


class DINOHead(nn.Module):
    """Linear-GELU-Linear-GELU-Linear to a bottleneck, L2-normalised, then cosine scores against the
    prototypes (a weight-normalised layer with its norms fixed at 1, the paper's `norm_last_layer`)."""

    def __init__(self, d_in: int, hidden: int, bottleneck: int, prototypes: int):
        super().__init__()
        # With BatchNorm after the hidden layers (the paper's `use_bn` option): a CNN's pooled features share a
        # large common part, which without it maps every image to one bottleneck direction, and the centred
        # teacher then goes uniform within a few dozen steps.
        self.mlp = nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.GELU(),
                                 nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.GELU(),
                                 nn.Linear(hidden, bottleneck))
        self.prototypes = nn.Parameter(torch.empty(prototypes, bottleneck))
        nn.init.normal_(self.prototypes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.mlp(x), dim=-1) @ F.normalize(self.prototypes, dim=-1).T


class DINOHeads(nn.Module):
    def __init__(self, backbone: nn.Module, args: DINOArgs):
        super().__init__()
        self.head = DINOHead(backbone.embed_dim, args.hidden_dim, args.projection_dim, args.prototypes)
        self.teacher_backbone = copy.deepcopy(backbone)
        self.teacher_head = copy.deepcopy(self.head)
        for parameter in [*self.teacher_backbone.parameters(), *self.teacher_head.parameters()]:
            parameter.requires_grad_(False)
        self.register_buffer("centre", torch.zeros(args.prototypes))


class DINO(TwoViewTask):
    name = "dino"
    summary = ("A student must give, from every crop of an image, large or small, the sharpened output a slow "
               "teacher gives from the large crops (self-distillation, no negatives).")
    reference = "Caron et al., Emerging Properties in Self-Supervised Vision Transformers (DINO), ICCV 2021"
    Args = DINOArgs
    family = "self-distillation"
    cost = "high"

    def __init__(self, args, pipeline):
        super().__init__(args, pipeline)
        self.progress = 0.0  # share of the budget used, for the teacher's temperature

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return DINOHeads(backbone, self.args)

    def local_side(self) -> int:
        return max(8, round(self.pipeline.spec.image_size * self.args.local_size))

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        batch = super().make_batch(raw, generator)  # the two global views
        a = self.args
        crops = [self.view(raw, generator, (a.local_min_scale, a.crop_min_scale), self.local_side())
                 for _ in range(a.local_crops)]
        if crops:
            batch.params["local"] = self.pipeline.preprocess(torch.cat([x for x, _ in crops]))
            batch.params["local_crop_box"] = torch.stack([p["crop_box"] for _, p in crops], 1)
        return batch

    def teacher_temp(self) -> float:
        a = self.args
        warmed = min(1.0, self.progress / TEACHER_WARMUP)
        return a.teacher_temp_start + (a.teacher_temp - a.teacher_temp_start) * warmed

    def forward(self, backbone: nn.Module, heads: DINOHeads, batch: Batch) -> TaskOutput:
        n = len(batch.targets)
        embeddings = backbone(batch.inputs)
        student = list(heads.head(embeddings).chunk(2))
        if "local" in batch.params:
            student += list(heads.head(backbone(batch.params["local"])).chunk(self.args.local_crops))
        with torch.no_grad():
            teacher = list(heads.teacher_head(heads.teacher_backbone(batch.inputs)).chunk(2))
        temperature = self.teacher_temp()
        loss, teacher_mean = dino_loss(student, teacher, heads.centre, self.args.student_temp, temperature)
        if heads.training:
            self._update_centre(heads, teacher_mean)
        with torch.no_grad():
            sharpened = F.softmax((torch.cat(teacher).float() - heads.centre) / temperature, dim=-1)
            teacher_entropy = entropy(sharpened)
        # The loss is the teacher's entropy plus the student's KL to it: the entropy falls only as the teacher
        # sharpens (thousands of steps), so the KL shows the learning early. Entropy near log K with KL near 0
        # is the uniform collapse; entropy near 0, the one-prototype collapse.
        metrics = {"teacher_entropy": teacher_entropy, "kl": loss.detach() - teacher_entropy,
                   "teacher_temp": torch.tensor(temperature)}
        return TaskOutput(loss, embeddings[:n], metrics)

    @torch.no_grad()
    def _update_centre(self, heads: DINOHeads, teacher_mean: torch.Tensor) -> None:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():  # the centre follows the global batch
            dist.all_reduce(teacher_mean)
            teacher_mean /= dist.get_world_size()
        m = self.args.centre_momentum
        heads.centre.mul_(m).add_(teacher_mean.to(heads.centre.dtype), alpha=1 - m)

    def after_step(self, model: nn.Module, progress: float) -> None:
        self.progress = progress
        heads = model.heads
        follow(((model.backbone, heads.teacher_backbone), (heads.head, heads.teacher_head)),
               cosine_momentum(self.args.ema_start, progress))

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        display = self.pipeline.preprocess.to_display
        globals_, n = display(batch.inputs), len(raw)
        local = display(batch.params["local"]) if "local" in batch.params else None
        samples = []
        for i in range(n):
            items = [PreviewItem("image", f"global crop {v} (teacher and student)", globals_[i + (v - 1) * n],
                                 params=_describe(batch.params, v, i)) for v in (1, 2)]
            for k in range(self.args.local_crops):
                x, y, w, h = (round(float(v), 1) for v in batch.params["local_crop_box"][i, k])
                items.append(PreviewItem("image", f"local crop {k + 1} (student only, {self.local_side()} px)",
                                         local[i + k * n], params={"crop_xywh": (x, y, w, h)}))
            samples.append(PreviewSample(i, tuple(items)))
        return samples

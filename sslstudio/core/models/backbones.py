"""Backbones: each maps a model input to one embedding vector per sample.

Every backbone exposes `embed_dim`, `forward(x) -> (B, D)` and `features(x)`:
a spatial map (B, C, H, W) for conv nets, or token states (B, L, D) for text,
so dense tasks (reconstruction, MLM) can attach their heads. The ResNet-18
variants keep torchvision's module names, so their state_dict loads into
`torchvision.models.resnet18` once conv1 is swapped for the 3x3 stem.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from sslstudio.core.errors import UserError


def _conv_bn(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class ConvNet(nn.Module):
    """A compact VGG-style CNN: four stages, three of them halving the resolution.

    The embedding concatenates the globally pooled outputs of stages 2-4. A
    pretext head specialises the last stage to its own task (Gidaris et al.
    2018 find rotation features peak in the middle blocks), so the earlier
    stages carry much of what transfers; pooling them costs nothing.
    """

    def __init__(self, in_channels: int, widths: tuple[int, ...] = (32, 64, 128, 256)):
        super().__init__()
        stages, c_in = [], in_channels
        for i, width in enumerate(widths):
            stages.append(nn.Sequential(_conv_bn(c_in, width, stride=1 if i == 0 else 2), _conv_bn(width, width)))
            c_in = width
        self.stages = nn.ModuleList(stages)
        self.feature_channels = widths[-1]
        self.embed_dim = sum(widths[1:])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.stages:
            x = stage(x)
        return x

    def features_and_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The last map (for dense heads) and the embedding, in one pass."""
        pooled = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i >= 1:
                pooled.append(x.mean(dim=(2, 3)))
        return x, torch.cat(pooled, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_and_embedding(x)[1]


class ResNet18Small(nn.Module):
    """torchvision's ResNet-18 with the CIFAR stem: 3x3 conv1, stride 1, no max-pool."""

    def __init__(self, in_channels: int):
        super().__init__()
        from torchvision.models import resnet18

        net = resnet18()
        net.conv1 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
        net.fc = nn.Identity()
        self.net = net
        self.embed_dim = self.feature_channels = 512

    def features(self, x: torch.Tensor) -> torch.Tensor:
        n = self.net
        x = n.relu(n.bn1(n.conv1(x)))
        return n.layer4(n.layer3(n.layer2(n.layer1(x))))

    def features_and_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return features, torch.flatten(self.net.avgpool(features), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_and_embedding(x)[1]


class TextTransformer(nn.Module):
    """A small pre-norm Transformer encoder over token ids; pad id 0 is ignored when pooling."""

    def __init__(self, vocab_size: int, max_tokens: int, dim: int = 128, layers: int = 2,
                 heads: int = 4):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.position_embedding = nn.Parameter(torch.zeros(1, max_tokens, dim))
        nn.init.normal_(self.position_embedding, std=0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, dim * 4, dropout=0.1, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.embed_dim = dim

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.token_embedding(ids) + self.position_embedding[:, : ids.shape[1]]
        return self.norm(self.encoder(x, src_key_padding_mask=ids == 0))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        states = self.features(ids)
        keep = (ids != 0).unsqueeze(-1).to(states.dtype)
        return (states * keep).sum(1) / keep.sum(1).clamp(min=1.0)


BackboneFactory = Callable[[dict], nn.Module]

BACKBONES: dict[str, dict[str, tuple[BackboneFactory, str]]] = {
    "image": {
        "cnn_small": (lambda ctx: ConvNet(3), "4-stage CNN, 1.2M parameters; CPU-friendly at 32-64 px"),
        "resnet18": (lambda ctx: ResNet18Small(3), "ResNet-18 with CIFAR stem, 11M parameters; for GPUs"),
    },
    "audio": {
        "mel_cnn": (lambda ctx: ConvNet(1), "4-stage CNN over the log-mel spectrogram"),
        "mel_resnet18": (lambda ctx: ResNet18Small(1), "ResNet-18 over the log-mel spectrogram; for GPUs"),
    },
    "text": {
        "transformer_tiny": (lambda ctx: TextTransformer(ctx["vocab_size"], ctx["max_tokens"]),
                             "2 layers, width 128; trains in minutes on a CPU"),
        "transformer_small": (lambda ctx: TextTransformer(ctx["vocab_size"], ctx["max_tokens"],
                                                          dim=256, layers=4),
                              "4 layers, width 256; for GPUs"),
    },
}
DEFAULT_BACKBONE = {"image": "cnn_small", "audio": "mel_cnn", "text": "transformer_tiny"}


def build_backbone(modality: str, name: str | None, context: dict) -> nn.Module:
    """Build a named backbone; an unknown name lists the valid ones."""
    name = name or DEFAULT_BACKBONE[modality]
    choices = BACKBONES[modality]
    if name not in choices:
        raise UserError(f"unknown {modality} backbone {name!r}; choose one of {', '.join(choices)}")
    return choices[name][0](context)

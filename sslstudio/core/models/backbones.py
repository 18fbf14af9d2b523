"""Backbones: each maps a model input to one embedding vector per sample.

Every backbone exposes `embed_dim`, `forward(x) -> (B, D)` and `features(x)`:
a spatial map (B, C, H, W) for conv nets and vision Transformers, or token
states (B, L, D) for text, so dense tasks (reconstruction, MLM) can attach
their heads.

- Small inputs (32-64 px, CPU): `cnn_small`, and `resnet18` with the CIFAR stem.
- Photos (96-224 px and up, GPU): `resnet18_imagenet` and `resnet50` (torchvision, ImageNet stem),
  `vit_s16` (ViT-S/16), and any timm model as `timm:NAME`.

Why timm: it is the field's zoo (1,000+ architectures, ViT-S/16 among them, which torchvision lacks),
its models share one interface (`forward_features`, `forward_head`, `num_features`, `in_chans`),
and with `pretrained=False` nothing is downloaded. The ResNets come from torchvision, whose state_dict
keys are the ones users' weight files carry; `--init FILE` loads such a file (torchvision or timm).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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


class TorchvisionResNet(nn.Module):
    """torchvision's ResNet, its module names kept (its state_dict loads into torchvision's model).

    The ImageNet stem (7x7 stride-2 conv and max-pool) suits 96 px and up; the CIFAR stem (3x3 stride-1
    conv, no max-pool) keeps 32-64 px inputs from shrinking to a 1x1 map."""

    def __init__(self, name: str, in_channels: int, cifar_stem: bool = False):
        super().__init__()
        import torchvision.models

        net = getattr(torchvision.models, name)()
        if cifar_stem:
            net.conv1 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
            net.maxpool = nn.Identity()
        elif in_channels != 3:
            net.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.embed_dim = self.feature_channels = net.fc.in_features
        net.fc = nn.Identity()
        self.net = net

    def features(self, x: torch.Tensor) -> torch.Tensor:
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        return n.layer4(n.layer3(n.layer2(n.layer1(x))))

    def features_and_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return features, torch.flatten(self.net.avgpool(features), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_and_embedding(x)[1]


class TimmBackbone(nn.Module):
    """Any timm model, randomly initialised (pretrained=False: nothing is downloaded), as a backbone.

    Vision Transformers take any input size (their position embeddings are resized, and a side that is
    not a multiple of the patch is padded), so they work on images of any size and on spectrograms;
    their patch tokens, without the class token, are laid out as a (B, D, H/p, W/p) map for dense heads.
    """

    def __init__(self, name: str, in_channels: int):
        super().__init__()
        import timm

        options = {"pretrained": False, "num_classes": 0, "in_chans": in_channels}
        try:
            self.net = timm.create_model(name, dynamic_img_size=True, dynamic_img_pad=True, **options)
        except TypeError:  # not a Transformer: its input size is free anyway
            self.net = timm.create_model(name, **options)
        self.feature_channels = self.net.num_features
        # Some heads widen the pooled features (MobileNetV3's conv_head): the embedding is what they give.
        self.embed_dim = getattr(self.net, "head_hidden_size", None) or self.net.num_features
        self.prefix_tokens = getattr(self.net, "num_prefix_tokens", 0)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self._as_map(self.net.forward_features(x), x)

    def features_and_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = self.net.forward_features(x)
        return self._as_map(tokens, x), self.net.forward_head(tokens, pre_logits=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _as_map(self, features: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if features.dim() == 4:
            return features
        patch_h, patch_w = self.net.patch_embed.patch_size
        patches = features[:, self.prefix_tokens:]
        rows, columns = -(-x.shape[-2] // patch_h), -(-x.shape[-1] // patch_w)  # a padded side has one more
        return patches.transpose(1, 2).reshape(len(x), -1, rows, columns)


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
TIMM_PREFIX = "timm:"

BACKBONES: dict[str, dict[str, tuple[BackboneFactory, str]]] = {
    "image": {
        "cnn_small": (lambda ctx: ConvNet(3), "4-stage CNN, 1.2M parameters; CPU-friendly at 32-64 px"),
        "resnet18": (lambda ctx: TorchvisionResNet("resnet18", 3, cifar_stem=True),
                     "ResNet-18 with CIFAR stem, 11M parameters; 32-64 px on a GPU"),
        "resnet18_imagenet": (lambda ctx: TorchvisionResNet("resnet18", 3),
                              "ResNet-18 with ImageNet stem, 11M parameters; 96-224 px"),
        "resnet50": (lambda ctx: TorchvisionResNet("resnet50", 3),
                     "ResNet-50 with ImageNet stem, 24M parameters; 224 px on a GPU"),
        "vit_s16": (lambda ctx: TimmBackbone("vit_small_patch16_224", 3),
                    "ViT-S/16 (timm), 22M parameters; 224 px on a GPU"),
        "vit_tiny": (lambda ctx: _vit(ctx, 192, 6, 3), "ViT-Tiny, 5.5M parameters, patches an eighth of the side "
                                                       "(16 px from 128 px up); for mae on a CPU"),
        "vit_small": (lambda ctx: _vit(ctx, 384, 12, 6), "ViT-S, 22M parameters, the same patches; for mae at "
                                                         "224 px on a GPU"),
    },
    "audio": {
        "mel_cnn": (lambda ctx: ConvNet(1), "4-stage CNN over the log-mel spectrogram"),
        "mel_resnet18": (lambda ctx: TorchvisionResNet("resnet18", 1, cifar_stem=True),
                         "ResNet-18 over the log-mel spectrogram; for GPUs"),
        "mel_vit_tiny": (lambda ctx: _mel_vit(), "ViT-Tiny over 8 x 8 patches of the log-mel spectrogram "
                                                 "(8 bands by 80 ms); for audio_mae"),
    },
    "text": {
        "transformer_tiny": (lambda ctx: TextTransformer(ctx["vocab_size"], ctx["max_tokens"]),
                             "2 layers, width 128; trains in minutes on a CPU"),
        "transformer_small": (lambda ctx: TextTransformer(ctx["vocab_size"], ctx["max_tokens"],
                                                          dim=256, layers=4),
                              "4 layers, width 256; for GPUs"),
        "word_vectors": (lambda ctx: _word_vectors(ctx["vocab"]),
                         "fastText-style token vectors with subword n-grams, texts as their rarity-weighted "
                         "mean; for word_context, trains in CPU minutes"),
    },
}
DEFAULT_BACKBONE = {"image": "cnn_small", "audio": "mel_cnn", "text": "transformer_tiny"}
# Backbones that hold a torchvision or timm model as `net`: their state_dict is that library's, under "net.".
WRAPS_LIBRARY_MODEL = {"resnet18", "mel_resnet18", "resnet18_imagenet", "resnet50", "vit_s16"}


def has_library_keys(name: str) -> bool:
    """Whether the backbone wraps a torchvision or timm model as `net`: its exported state_dict then drops
    the `net.` prefix, so the library's own constructor loads it."""
    return name in WRAPS_LIBRARY_MODEL or name.startswith(TIMM_PREFIX)


def _vit(context: dict, dim: int, depth: int, heads: int) -> nn.Module:
    from sslstudio.core.models.vit import ViT, patch_size_for

    return ViT(3, patch_size_for(context["image_size"]), dim, depth, heads)


def _mel_vit() -> nn.Module:
    from sslstudio.core.models.vit import SPECTROGRAM_PATCH, ViT

    return ViT(1, SPECTROGRAM_PATCH, 192, 6, 3)


def _word_vectors(vocab: dict[str, int]) -> nn.Module:
    from sslstudio.core.models.word_vectors import WordVectors

    return WordVectors(vocab)


def check_backbone(modality: str, name: str) -> None:
    """Refuse an unknown backbone name at once (before minutes of loading), listing the valid ones."""
    if name.startswith(TIMM_PREFIX) and modality in ("image", "audio"):
        import timm

        if not timm.is_model(name[len(TIMM_PREFIX):]):
            raise UserError(f"timm has no model {name[len(TIMM_PREFIX):]!r}; "
                            f"`python -c \"import timm; print(timm.list_models())\"` lists them")
        return
    choices = BACKBONES[modality]
    if name not in choices:
        timm = ", or timm:NAME for any timm model" if modality != "text" else ""
        raise UserError(f"unknown {modality} backbone {name!r}; choose one of {', '.join(choices)}{timm}")


def build_backbone(modality: str, name: str | None, context: dict) -> nn.Module:
    """Build a named backbone; an unknown name lists the valid ones. `timm:NAME` builds any timm model
    (images: 3 channels; audio: the 1-channel log-mel)."""
    name = name or DEFAULT_BACKBONE[modality]
    check_backbone(modality, name)
    if name.startswith(TIMM_PREFIX):
        return TimmBackbone(name[len(TIMM_PREFIX):], 3 if modality == "image" else 1)
    return BACKBONES[modality][name][0](context)


def default_backbone(modality: str, device_type: str, image_size: int = 32,
                     task_backbones: tuple[str, ...] | None = None) -> str:
    """The task's own first choice where it names some; else a small CNN on a CPU, and on a GPU ResNet-50 for
    photos (96 px and up), the CIFAR-stem ResNet-18 below."""
    if task_backbones:
        return task_backbones[0]
    if device_type == "cpu" or modality == "text":
        return DEFAULT_BACKBONE[modality]
    if modality == "audio":
        return "mel_resnet18"
    return "resnet50" if image_size >= 96 else "resnet18"


def load_initial_weights(backbone: nn.Module, path: str | Path) -> str:
    """Start from a local weights file (a torchvision or timm state_dict, bare or under "state_dict",
    "model" or "backbone"): tensors that fit by name and shape are loaded, the classifier is left
    out. Returns what was loaded, in words; a file that fits nothing is refused."""
    state = _read_state_dict(Path(path))
    own = backbone.state_dict()
    wrapped = "net." if any(k.startswith("net.") for k in own) else ""
    matched, skipped = {}, []
    for key, value in state.items():
        name = key.removeprefix("module.").removeprefix("backbone.").removeprefix("encoder.")
        target = wrapped + name if wrapped + name in own else name
        if target in own and own[target].shape == value.shape:
            matched[target] = value
        elif not name.startswith(("fc.", "head.", "classifier.")):
            skipped.append(name)
    if len(matched) < 0.5 * len(own):
        raise UserError(f"{path} does not fit this backbone: {len(matched)} of its {len(own)} tensors match by name "
                        f"and shape" + (f" (for example {', '.join(skipped[:3])})" if skipped else ""))
    backbone.load_state_dict(matched, strict=False)
    return f"{len(matched)} of {len(own)} tensors from {Path(path).name}" + (
        f"; {len(skipped)} did not fit and start random" if skipped else "")


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors by name from a .safetensors file or a torch file read safely (weights_only)."""
    if not path.is_file():
        raise UserError(f"no weights file at {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file: say so in one line
        raise UserError(f"cannot read weights from {path} ({type(exc).__name__}: {exc})") from None
    for key in ("state_dict", "model", "backbone"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{path} holds no state_dict of tensors")
    return state

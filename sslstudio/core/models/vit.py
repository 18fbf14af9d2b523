"""A plain Vision Transformer that can encode a subset of its patches (what MAE needs).

Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021, with the fixed 2-D sine-cosine
position embedding that MAE uses (He et al., CVPR 2022), computed for whatever grid the input gives,
so one model takes any image size. The patch side follows the input size (`patch_size_for`), so a
32-px image is 8 x 8 patches, as is a 64-px one, and a 224-px one is the usual 14 x 14 of 16 px.
The embedding is the mean of the final patch tokens (MAE's linear probes found it on a par with the
class token, and it needs no token that masking would have to keep).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SPECTROGRAM_PATCH = 8  # mel bands and frames per patch side of a log-mel ViT: 64 mels give 8 rows


def patch_size_for(image_size: int) -> int:
    """16 px from 128 px up (the ViT default); below, an eighth of the side, at least 2."""
    return 16 if image_size >= 128 else max(2, image_size // 8)


def sincos_position(dim: int, rows: int, columns: int, device=None) -> torch.Tensor:
    """(rows * columns, dim): half the channels encode the row, half the column, as MAE does."""
    quarter = dim // 4
    frequencies = 1.0 / (10000 ** (torch.arange(quarter, device=device, dtype=torch.float32) / quarter))
    ys, xs = torch.meshgrid(torch.arange(rows, device=device, dtype=torch.float32),
                            torch.arange(columns, device=device, dtype=torch.float32), indexing="ij")
    parts = []
    for coordinate in (ys.reshape(-1), xs.reshape(-1)):
        angles = coordinate[:, None] * frequencies[None]
        parts += [angles.sin(), angles.cos()]
    encoding = torch.cat(parts, dim=1)
    return F.pad(encoding, (0, dim - encoding.shape[1]))


def transformer(dim: int, depth: int, heads: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(dim, heads, dim * 4, dropout=0.0, batch_first=True, norm_first=True,
                                       activation="gelu")
    return nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)


class ViT(nn.Module):
    def __init__(self, in_channels: int, patch: int, dim: int = 192, depth: int = 6, heads: int = 3):
        super().__init__()
        self.patch = patch
        self.patch_embed = nn.Conv2d(in_channels, dim, patch, patch)
        self.blocks = transformer(dim, depth, heads)
        self.norm = nn.LayerNorm(dim)
        self.embed_dim = self.feature_channels = dim

    def grid(self, x: torch.Tensor) -> tuple[int, int]:
        return -(-x.shape[-2] // self.patch), -(-x.shape[-1] // self.patch)

    def patch_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) patch embeddings with their positions; a side that is not a multiple of the patch is
        padded with zeros (the data mean after standardising)."""
        rows, columns = self.grid(x)
        x = F.pad(x, (0, columns * self.patch - x.shape[-1], 0, rows * self.patch - x.shape[-2]))
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)
        return tokens + sincos_position(tokens.shape[-1], rows, columns, tokens.device).to(tokens.dtype)

    def encode(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """The final tokens of the patches listed in `keep` (B, n) (default: all), (B, n, D)."""
        tokens = self.patch_tokens(x)
        if keep is not None:
            tokens = tokens.gather(1, keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))
        return self.norm(self.blocks(tokens))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D, rows, columns): the tokens laid out as a map, for dense heads."""
        rows, columns = self.grid(x)
        return self.encode(x).transpose(1, 2).reshape(len(x), -1, rows, columns)

    def features_and_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = self.encode(x)
        rows, columns = self.grid(x)
        return tokens.transpose(1, 2).reshape(len(x), -1, rows, columns), tokens.mean(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x).mean(1)

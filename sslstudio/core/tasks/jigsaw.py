"""Jigsaw puzzles: cut the image into 3x3 tiles, shuffle them by one of N permutations, name the permutation.

Noroozi and Favaro, "Unsupervised Learning of Visual Representations by
Solving Jigsaw Puzzles", ECCV 2016. The permutation set is chosen greedily for
maximal minimum Hamming distance, as in the paper, so the classes differ in
many tiles. Each tile is cut at a random offset inside its cell, leaving a gap,
so edges and lines that continue across tiles cannot give the order away.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.base import Batch, PretextTask, PreviewItem, PreviewSample, TaskOutput, make_generator

GRID = 3


@dataclass(frozen=True)
class JigsawArgs(TaskArgs):
    permutations: int = setting(100, "How many tile orders the model must tell apart (the paper's 100 to 1000).",
                                min=2, max=1000)
    gap: float = setting(0.15, "Share of each cell left out around its tile, so tiles do not touch.",
                         min=0.0, max=0.5)


@lru_cache(maxsize=8)
def permutation_set(count: int, seed: int = 0) -> np.ndarray:
    """(count, 9) orders of 9 tiles, greedily chosen to maximise the minimum Hamming distance.

    Each order is coded as 81 one-hot bits (tile t at slot k), so the tiles two orders
    share are the popcount of an AND: 10x faster than comparing the 9 slots.
    """
    every = np.array(list(itertools.permutations(range(GRID * GRID))), dtype=np.int64)
    bit = every + GRID * GRID * np.arange(GRID * GRID)  # 0..80
    one = np.uint64(1)
    low = np.where(bit < 64, one << np.minimum(bit, 63).astype(np.uint64), 0).sum(1, dtype=np.uint64)
    high = np.where(bit >= 64, one << np.maximum(bit - 64, 0).astype(np.uint64), 0).sum(1, dtype=np.uint64)

    def distance_to(i: int) -> np.ndarray:
        shared = np.bitwise_count(low & low[i]) + np.bitwise_count(high & high[i])
        return GRID * GRID - shared.astype(np.int64)

    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(every)))]
    nearest = distance_to(chosen[0])
    for _ in range(count - 1):
        best = np.flatnonzero(nearest == nearest.max())
        chosen.append(int(best[rng.integers(len(best))]))
        nearest = np.minimum(nearest, distance_to(chosen[-1]))
    return every[chosen]


class Jigsaw(PretextTask):
    name = "jigsaw"
    modality = "image"
    summary = "Shuffle 3x3 tiles of the image by one of N permutations; the model names the permutation."
    reference = ("Noroozi and Favaro, Unsupervised Learning of Visual Representations by Solving Jigsaw "
                 "Puzzles, ECCV 2016")
    Args = JigsawArgs
    family = "transformation prediction"
    cost = "medium"

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        hidden = 512
        return nn.Sequential(nn.Linear(GRID * GRID * backbone.embed_dim, hidden), nn.BatchNorm1d(hidden),
                             nn.ReLU(inplace=True), nn.Linear(hidden, self.args.permutations))

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        images = self.pipeline.preprocess(self.crop_stored(raw, generator)[0])
        n, _, height, width = images.shape
        cell = min(height, width) // GRID
        tile = max(2, round(cell * (1 - self.args.gap)))
        offsets = torch.randint(0, cell - tile + 1, (n, GRID * GRID, 2), generator=generator)
        order = torch.randint(self.args.permutations, (n,), generator=generator)
        perms = torch.from_numpy(permutation_set(self.args.permutations))[order]  # (n, 9): tile shown at slot k
        span = torch.arange(tile)
        tops = (perms // GRID) * cell + offsets[..., 0]  # (n, 9): where each shown tile is cut from
        lefts = (perms % GRID) * cell + offsets[..., 1]
        rows = (tops[..., None] + span).to(images.device)  # (n, 9, tile)
        cols = (lefts[..., None] + span).to(images.device)
        batch_index = torch.arange(n, device=images.device).view(n, 1, 1, 1)
        tiles = images.permute(0, 2, 3, 1)[batch_index, rows[..., :, None], cols[..., None, :]]  # (n,9,t,t,C)
        tiles = tiles.permute(0, 1, 4, 2, 3).contiguous()
        return Batch(tiles, order.to(images.device), {"permutation": order, "order": perms, "offsets": offsets})

    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        n = len(batch.inputs)
        per_tile = backbone(batch.inputs.flatten(0, 1)).view(n, GRID * GRID, -1)
        logits = heads(per_tile.flatten(1))
        accuracy = (logits.argmax(1) == batch.targets).float().mean()
        return TaskOutput(F.cross_entropy(logits, batch.targets), per_tile.mean(1), {"accuracy": accuracy})

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        n, _, channels, tile, _ = batch.inputs.shape
        gap = max(1, tile // 8)
        side = GRID * tile + (GRID - 1) * gap
        board = torch.full((n, channels, side, side), float("nan"))
        for slot in range(GRID * GRID):
            row, col = divmod(slot, GRID)
            board[:, :, row * (tile + gap):row * (tile + gap) + tile, col * (tile + gap):col * (tile + gap) + tile] = \
                batch.inputs[:, slot].cpu()
        blank = torch.isnan(board)
        shown = self.pipeline.preprocess.to_display(torch.nan_to_num(board, nan=0.0))
        shown[blank.permute(0, 2, 3, 1).numpy()] = 255
        originals = self.pipeline.preprocess.to_display(self.pipeline.preprocess(raw))
        return [PreviewSample(i, (
            PreviewItem("image", f"tiles as shown, class {int(batch.params['permutation'][i])}", shown[i],
                        params={"tile_order": batch.params["order"][i].tolist()}),
            PreviewItem("image", "original", originals[i]))) for i in range(n)]

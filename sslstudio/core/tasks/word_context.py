"""Word context, as fastText learns it: predict a token from its neighbours (CBOW) or the neighbours
from the token (skip-gram), with negative sampling and subword vectors.

Mikolov et al., "Distributed Representations of Words and Phrases and their Compositionality",
NeurIPS 2013, and Bojanowski et al., "Enriching Word Vectors with Subword Information", TACL 2017.
As there: each centre's window is drawn between 1 and `window` tokens, frequent tokens are seldom
chosen as centres (kept with probability sqrt(t/f) + t/f), and each prediction is scored against
`negatives` tokens drawn from the unigram distribution raised to 0.75. Here the frequencies are
those of the batch, which on a few thousand tokens follow the corpus closely. The backbone is
`word_vectors` (core/models/word_vectors.py), whose text embedding weighs its tokens' vectors by
their rarity. It learns in CPU minutes where a Transformer needs GPU hours.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sslstudio.core.models.tokenizer import SPECIAL_TOKENS
from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.base import Batch, PretextTask, PreviewItem, PreviewSample, TaskOutput, make_generator

UNIGRAM_POWER = 0.75


@dataclass(frozen=True)
class WordContextArgs(TaskArgs):
    mode: str = setting("cbow", "cbow: predict each centre token from the mean of its neighbours (fast); skipgram: "
                                "predict each neighbour from the centre (slower, better for rare tokens).",
                        choices=("cbow", "skipgram"))
    window: int = setting(5, "Largest number of neighbours on each side; each centre draws its own from 1 to this.",
                          min=1, max=20)
    negatives: int = setting(5, "Tokens drawn as wrong answers for each prediction.", min=1, max=50)
    subsample: float = setting(1e-3, "Frequency above which tokens are seldom chosen as centres (word2vec's t; "
                                     "0 keeps every token).", min=0.0, max=1.0)
    centres_per_text: int = setting(32, "Most centre tokens predicted per text and step.", min=1, max=512)


class WordContext(PretextTask):
    name = "word_context"
    modality = "text"
    summary = ("Predict each chosen token from its neighbours (or the neighbours from it), against a few "
               "wrong tokens: fastText's word vectors with subword pieces, learnt in CPU minutes.")
    reference = ("Mikolov et al., word2vec, NeurIPS 2013; Bojanowski et al., Enriching Word Vectors with Subword "
                 "Information (fastText), TACL 2017")
    Args = WordContextArgs
    family = "context prediction"
    cost = "low"
    backbones = ("word_vectors",)

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        output = nn.Embedding(self.pipeline.tokenizer.get_vocab_size(), backbone.embed_dim)
        nn.init.zeros_(output.weight)  # fastText's output vectors start at zero
        return output

    # ------------------------------------------------------------------ batch
    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        ids = raw.cpu()
        frequencies = self._frequencies(ids)  # once per batch: the centres' thinning and the negatives' draw
        rows, positions, windows = self._centres(ids, frequencies, generator)
        if self.args.mode == "cbow":
            targets, owners = ids[rows, positions], torch.arange(len(rows))
        else:
            owners, context = self._neighbours(ids, rows, positions, windows)
            targets = ids[rows[owners], context]
        negatives = self._negatives(frequencies, len(targets), generator)
        centres = torch.zeros(ids.shape, dtype=torch.bool)
        centres[rows, positions] = True
        device = raw.device
        params = {"rows": rows, "positions": positions, "windows": windows, "owners": owners,
                  "negatives": negatives, "centres": centres}
        return Batch(raw, targets.to(device), {k: v.to(device) for k, v in params.items()})

    def _centres(self, ids: torch.Tensor, frequencies: torch.Tensor, generator: torch.Generator):
        """(rows, positions, windows) of the centres: ordinary tokens, frequent ones thinned, at most
        `centres_per_text` per text, each with its window drawn from 1..`window`."""
        ordinary = ids >= len(SPECIAL_TOKENS)
        frequency = frequencies[ids]
        keep = torch.ones(ids.shape)
        if self.args.subsample > 0:
            ratio = self.args.subsample / frequency.clamp(min=1e-12)
            keep = (ratio.sqrt() + ratio).clamp(max=1.0)
        chosen = ordinary & (torch.rand(ids.shape, generator=generator) < keep)
        # A random order of each text's chosen positions; the first `centres_per_text` are used.
        keys = torch.where(chosen, torch.rand(ids.shape, generator=generator), torch.full(ids.shape, 2.0))
        order = keys.argsort(dim=1)[:, :self.args.centres_per_text]
        taken = keys.gather(1, order) < 2.0
        rows = torch.arange(len(ids)).unsqueeze(1).expand_as(order)[taken]
        positions = order[taken]
        windows = torch.randint(1, self.args.window + 1, (len(rows),), generator=generator)
        return rows, positions, windows

    @staticmethod
    def _neighbours(ids: torch.Tensor, rows, positions, windows) -> tuple[torch.Tensor, torch.Tensor]:
        """Skip-gram pairs: (index of the centre, position of one ordinary neighbour within its window)."""
        reach = int(windows.max()) if len(windows) else 1
        offsets = torch.cat([torch.arange(-reach, 0), torch.arange(1, reach + 1)])
        where = positions.unsqueeze(1) + offsets
        inside = (offsets.abs() <= windows.unsqueeze(1)) & (where >= 0) & (where < ids.shape[1])
        ordinary = ids[rows.unsqueeze(1).expand_as(where), where.clamp(0, ids.shape[1] - 1)] >= len(SPECIAL_TOKENS)
        owners, column = torch.nonzero(inside & ordinary, as_tuple=True)
        return owners, where[owners, column]

    def _frequencies(self, ids: torch.Tensor) -> torch.Tensor:
        counts = torch.bincount(ids.reshape(-1), minlength=self.pipeline.tokenizer.get_vocab_size()).float()
        counts[:len(SPECIAL_TOKENS)] = 0
        return counts / counts.sum().clamp(min=1.0)

    def _negatives(self, frequencies: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
        weights = frequencies.pow(UNIGRAM_POWER)
        if count == 0 or weights.sum() == 0:
            return torch.zeros(count, self.args.negatives, dtype=torch.long)
        return torch.multinomial(weights, count * self.args.negatives, replacement=True,
                                 generator=generator).reshape(count, self.args.negatives)

    # ------------------------------------------------------------------ loss
    def predictors(self, backbone: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(token vectors (B, L, D), one predicting vector per target: the neighbours' mean for CBOW,
        the centre's vector for skip-gram)."""
        vectors = backbone.features(batch.inputs)
        p = batch.params
        if self.args.mode == "skipgram":
            return vectors, vectors[p["rows"][p["owners"]], p["positions"][p["owners"]]]
        ordinary = (batch.inputs >= len(SPECIAL_TOKENS)).to(vectors.dtype)
        kept = vectors * ordinary.unsqueeze(-1)
        sums = F.pad(kept.cumsum(1), (0, 0, 1, 0))  # sums[:, j] = sum of the first j positions
        counts = F.pad(ordinary.cumsum(1), (1, 0))
        rows, positions, windows = p["rows"], p["positions"], p["windows"]
        low = (positions - windows).clamp(min=0)
        high = (positions + windows + 1).clamp(max=batch.inputs.shape[1])
        total = sums[rows, high] - sums[rows, low] - kept[rows, positions]
        count = counts[rows, high] - counts[rows, low] - ordinary[rows, positions]
        return vectors, total / count.clamp(min=1.0).unsqueeze(-1)

    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        if backbone.training:
            backbone.observe(batch.inputs)
        vectors, predicting = self.predictors(backbone, batch)
        negatives = batch.params["negatives"]
        positive = (predicting * heads(batch.targets)).sum(-1)
        negative = torch.einsum("nd,nkd->nk", predicting, heads(negatives))
        real = (negatives != batch.targets.unsqueeze(1)).to(negative.dtype)  # a draw of the answer is no negative
        loss = (F.softplus(-positive.float()) + (F.softplus(negative.float()) * real).sum(1)).mean()
        beaten = ((negative - positive.unsqueeze(1)) * real).amax(1) < 0 if len(positive) else positive.bool()
        embeddings = backbone.pool(batch.inputs, vectors)
        return TaskOutput(loss, embeddings, {"accuracy": beaten.float().mean()})

    # ------------------------------------------------------------------ showing it
    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        to_token = self.pipeline.tokenizer.id_to_token
        p = batch.params
        samples = []
        for i in range(batch.size):
            length = int((raw[i] != 0).sum())
            tokens = [to_token(t) for t in raw[i, :length].tolist()]
            centres = p["centres"][i, :length].cpu().numpy()
            mine = torch.nonzero(p["rows"] == i).flatten()
            params = {"centres": int(centres.sum()), "mode": self.args.mode, "window": self.args.window,
                      "negatives": self.args.negatives}
            items = [PreviewItem("tokens", f"model input: {int(centres.sum())} centre tokens (highlighted)",
                                 tokens, centres, params)]
            if len(mine):
                items.append(self._first_window(batch, int(mine[0]), length, tokens))
            samples.append(PreviewSample(i, tuple(items)))
        return samples

    def _first_window(self, batch: Batch, centre: int, length: int, tokens: list[str]) -> PreviewItem:
        """One centre in its window: what CBOW predicts from what, and the wrong answers it is scored against."""
        to_token = self.pipeline.tokenizer.id_to_token
        p = batch.params
        position, window = int(p["positions"][centre]), int(p["windows"][centre])
        low, high = max(0, position - window), min(length, position + window + 1)
        shown = [("[?]" if j == position and self.args.mode == "cbow" else tokens[j]) for j in range(low, high)]
        mask = [j == position for j in range(low, high)]
        owned = torch.nonzero(p["owners"] == centre).flatten()  # skip-gram: a centre with no neighbour has none
        wrong = [to_token(t) for t in p["negatives"][int(owned[0])].tolist()] if len(owned) else []
        title = (f"predict '{tokens[position]}' from ±{window} neighbours" if self.args.mode == "cbow"
                 else f"predict the neighbours within ±{window} of '{tokens[position]}'")
        return PreviewItem("tokens", title, shown, torch.tensor(mask).numpy(),
                           {"window": window, "wrong answers": " ".join(wrong)})

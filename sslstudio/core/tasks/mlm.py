"""Masked language modelling (BERT).

Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for
Language Understanding", NAACL 2019. A share of the tokens is selected; of
those, 80 % become [MASK], 10 % a random token and 10 % stay as they are, and
the model predicts the original token at every selected position. With
`span_length` above 1 the selection comes in contiguous spans whose lengths
are geometric with that mean, clipped at 10 (Joshi et al., "SpanBERT", TACL
2020): a hidden word then cannot be read off its own neighbouring pieces.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sslstudio.core.errors import ArgsError
from sslstudio.core.models.tokenizer import MASK_ID, SPECIAL_TOKENS
from sslstudio.core.tasks.args import TaskArgs, setting
from sslstudio.core.tasks.base import Batch, PretextTask, PreviewItem, PreviewSample, TaskOutput, make_generator

IGNORE = -100
MAX_SPAN = 10


@dataclass(frozen=True)
class MLMArgs(TaskArgs):
    mask_prob: float = setting(0.15, "Share of tokens selected for prediction.", min=0.01, max=0.8)
    mask_token_share: float = setting(0.8, "Of the selected tokens, the share replaced by [MASK].",
                                      min=0.0, max=1.0)
    random_token_share: float = setting(0.1, "Of the selected tokens, the share replaced by a random "
                                             "token; the rest stay unchanged.", min=0.0, max=1.0)
    span_length: float = setting(1.0, "Mean length of a selected span of tokens (1: single tokens, as BERT; "
                                      "SpanBERT: 3.8).", min=1.0, max=10.0)

    def check(self) -> None:
        if self.mask_token_share + self.random_token_share > 1.0:
            raise ArgsError("settings 'mask_token_share' + 'random_token_share' must be at most 1")


class MLMHead(nn.Module):
    def __init__(self, dim: int, vocab_size: int):
        super().__init__()
        self.transform = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.LayerNorm(dim))
        self.decoder = nn.Linear(dim, vocab_size)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(states))


class MaskedLanguageModel(PretextTask):
    name = "mlm"
    modality = "text"
    summary = "Hide 15 % of the tokens (80 % [MASK], 10 % random, 10 % kept) and predict the originals."
    reference = "Devlin et al., BERT, NAACL 2019"
    Args = MLMArgs
    family = "reconstruction"
    cost = "medium"
    backbones = ("transformer_tiny", "transformer_small")  # they read each token in its context

    def build_heads(self, backbone: nn.Module) -> nn.Module:
        return MLMHead(backbone.embed_dim, self.pipeline.tokenizer.get_vocab_size())

    def make_batch(self, raw: torch.Tensor, generator: torch.Generator) -> Batch:
        ids = raw.cpu()
        selectable = ids >= len(SPECIAL_TOKENS)
        selected = self._select(ids.shape, generator) & selectable
        # A row with no selection teaches nothing: pick its first ordinary token instead.
        empty = ~selected.any(1) & selectable.any(1)
        selected[empty, selectable[empty].float().argmax(1)] = True
        action = torch.rand(ids.shape, generator=generator)
        to_mask = selected & (action < self.args.mask_token_share)
        to_random = selected & ~to_mask & (action < self.args.mask_token_share + self.args.random_token_share)
        vocab = self.pipeline.tokenizer.get_vocab_size()
        random_ids = torch.randint(len(SPECIAL_TOKENS), vocab, ids.shape, generator=generator)
        inputs = torch.where(to_mask, torch.full_like(ids, MASK_ID), torch.where(to_random, random_ids, ids))
        targets = torch.where(selected, ids, torch.full_like(ids, IGNORE))
        device = raw.device
        return Batch(inputs.to(device), targets.to(device),
                     {"selected": selected.to(device), "masked": to_mask.to(device),
                      "randomised": to_random.to(device)})

    def _select(self, shape: torch.Size, generator: torch.Generator) -> torch.Tensor:
        """Selected positions: single tokens at `mask_prob`, or spans of geometric length starting at
        `mask_prob / span_length` so that about the same share is selected."""
        mean = self.args.span_length
        starts = torch.rand(shape, generator=generator) < self.args.mask_prob / mean
        if mean == 1.0:
            return starts
        # Geometric lengths with this mean (success chance 1 / mean), clipped at MAX_SPAN as in SpanBERT.
        uniform = torch.rand(shape, generator=generator).clamp(min=1e-12)
        lengths = (torch.log(uniform) / math.log(1 - 1 / mean)).floor().clamp(max=MAX_SPAN - 1) + 1
        positions = torch.arange(shape[-1]).expand(shape)
        reach = torch.where(starts, positions + lengths.long() - 1, torch.full(shape, -1))
        return reach.cummax(dim=-1).values >= positions  # covered by a span that started at or before here

    def forward(self, backbone: nn.Module, heads: nn.Module, batch: Batch) -> TaskOutput:
        states = backbone.features(batch.inputs)
        keep = (batch.inputs != 0).unsqueeze(-1).to(states.dtype)
        embeddings = (states * keep).sum(1) / keep.sum(1).clamp(min=1.0)
        selected = batch.targets != IGNORE
        logits = heads(states[selected])
        targets = batch.targets[selected]
        accuracy = (logits.argmax(-1) == targets).float().mean()
        return TaskOutput(F.cross_entropy(logits.float(), targets), embeddings, {"accuracy": accuracy})

    def output_items(self, backbone: nn.Module, heads: nn.Module, batch: Batch, top_k: int = 3) -> list[PreviewItem]:
        """Each selected position filled with the model's best guess; the top-k guesses in params."""
        to_token = self.pipeline.tokenizer.id_to_token
        logits = heads(backbone.features(batch.inputs))
        best = logits.topk(top_k, dim=-1).indices
        items = []
        for i in range(batch.size):
            length = int((batch.inputs[i] != 0).sum())
            selected = batch.params["selected"][i, :length]
            filled, guesses = [], {}
            for position in range(length):
                if selected[position]:
                    choices = [to_token(t) for t in best[i, position].tolist()]
                    filled.append(choices[0])
                    guesses[f"{position}:{to_token(int(batch.targets[i, position]))}"] = choices
                else:
                    filled.append(to_token(int(batch.inputs[i, position])))
            hits = sum(choices[0] == key.split(":", 1)[1] for key, choices in guesses.items())
            items.append(PreviewItem("tokens", f"model's fills ({hits}/{len(guesses)} right)", filled,
                                     selected.cpu().numpy(), {"top_k": guesses}))
        return items

    def preview(self, raw: torch.Tensor, seed: int) -> list[PreviewSample]:
        batch = self.make_batch(raw, make_generator(seed))
        to_token = self.pipeline.tokenizer.id_to_token
        samples = []
        for i in range(batch.size):
            length = int((raw[i] != 0).sum())
            shown = [to_token(t) for t in batch.inputs[i, :length].tolist()]
            original = [to_token(t) for t in raw[i, :length].tolist()]
            selected = batch.params["selected"][i, :length].cpu().numpy()
            params = {"selected": int(selected.sum()), "tokens": length,
                      "masked": int(batch.params["masked"][i].sum()),
                      "randomised": int(batch.params["randomised"][i].sum())}
            samples.append(PreviewSample(i, (
                PreviewItem("tokens", "model input", shown, selected, params),
                PreviewItem("tokens", "targets", original, selected),
            )))
        return samples

"""Word vectors with subword information, as in fastText, and the text embedding made from them.

Bojanowski, Grave, Joulin and Mikolov, "Enriching Word Vectors with Subword Information", TACL 2017.
A token's input vector is the mean of its own vector and the vectors of its character n-grams
(3 to 5 characters, hashed into buckets with FNV-1a, fastText's hash), so tokens that share pieces
share parameters and a rare token borrows from its frequent relatives. Here the tokens are the
WordPiece pieces of the run's own vocabulary; a piece that starts a word carries fastText's `<`
boundary mark, and a continuation piece (`##ing`) does not.

A text's embedding is the weighted mean of its tokens' vectors, with the smooth inverse frequency
weights a / (a + p(token)) of Arora, Liang and Ma, "A Simple but Tough-to-Beat Baseline for Sentence
Embeddings", ICLR 2017: frequent tokens ("the", ",") count for little. The token frequencies are
counted on the training batches (`observe`) and kept in the checkpoint, so an exported model
weighs tokens as the trained one does.
"""
from __future__ import annotations

import torch
from torch import nn

from sslstudio.core.models.tokenizer import SPECIAL_TOKENS

NGRAM_SIZES = (3, 4, 5)
MAX_BUCKETS = 16_384
SIF_A = 1e-3  # the paper's a; weights fall to half for a token making up 0.1 % of the text


def fnv1a(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes (fastText's `hash`): stable across processes, unlike `hash()`."""
    value = 2166136261
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def piece_ngrams(piece: str, buckets: int) -> list[int]:
    """The bucket of each character n-gram of a WordPiece piece; empty for special tokens."""
    if piece in SPECIAL_TOKENS:
        return []
    marked = piece[2:] if piece.startswith("##") else "<" + piece
    grams = {marked[i:i + n] for n in NGRAM_SIZES for i in range(len(marked) - n + 1)}
    grams.discard(marked)  # the whole piece has its own vector
    return sorted(fnv1a(gram) % buckets for gram in grams)


class WordVectors(nn.Module):
    """Token vectors from a piece and its n-grams; `forward` gives the SIF-weighted mean per text."""

    def __init__(self, vocab: dict[str, int], dim: int = 128, buckets: int | None = None):
        super().__init__()
        size = max(vocab.values(), default=-1) + 1
        # A piece has about 5 to 10 n-grams, many shared: 4 buckets per piece keeps collisions few and the
        # table no larger than the vocabulary needs (fastText's 2M buckets serve millions of words).
        buckets = buckets or min(MAX_BUCKETS, 4 * max(size, 1))
        lists = [[] for _ in range(size)]
        for piece, index in vocab.items():
            lists[index] = piece_ngrams(piece, buckets)
        width = max((len(grams) for grams in lists), default=0) or 1
        table = torch.full((size, width), buckets, dtype=torch.long)  # `buckets` is the empty slot
        for index, grams in enumerate(lists):
            table[index, :len(grams)] = torch.tensor(grams, dtype=torch.long)
        # Made from the vocabulary, which the run keeps: not part of the weights.
        self.register_buffer("ngrams", table, persistent=False)
        self.register_buffer("parts", 1.0 + (table < buckets).sum(1).float(), persistent=False)
        self.register_buffer("token_counts", torch.zeros(size))  # float32: MPS has no float64
        self.token_embedding = nn.Embedding(size, dim)
        self.ngram_embedding = nn.EmbeddingBag(buckets + 1, dim, mode="sum", padding_idx=buckets)
        for weight in (self.token_embedding.weight, self.ngram_embedding.weight):
            nn.init.uniform_(weight, -1.0 / dim, 1.0 / dim)  # fastText's input initialisation
        with torch.no_grad():
            self.ngram_embedding.weight[buckets].zero_()
        self.embed_dim = dim

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, L) token ids -> (B, L, D) token vectors."""
        flat = ids.reshape(-1)
        summed = self.token_embedding(flat) + self.ngram_embedding(self.ngrams[flat])
        return (summed / self.parts[flat].unsqueeze(-1)).reshape(*ids.shape, -1)

    def token_weights(self, ids: torch.Tensor) -> torch.Tensor:
        """SIF weights of these ids; 0 for padding and special tokens; 1 before any token was counted."""
        frequency = self.token_counts / self.token_counts.sum().clamp(min=1.0)  # all 0 before counting: weights 1
        return (SIF_A / (SIF_A + frequency))[ids] * (ids >= len(SPECIAL_TOKENS))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.pool(ids, self.features(ids))

    def pool(self, ids: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
        """The texts' embeddings from their token vectors (B, L, D): the SIF-weighted mean."""
        weights = self.token_weights(ids).unsqueeze(-1).to(vectors.dtype)
        return (vectors * weights).sum(1) / weights.sum(1).clamp(min=1e-6)

    @torch.no_grad()
    def observe(self, ids: torch.Tensor) -> None:
        """Count the tokens of a training batch (for the SIF weights)."""
        self.token_counts += torch.bincount(ids.reshape(-1), minlength=len(self.token_counts)).float()

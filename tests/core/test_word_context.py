"""fastText-style word vectors and the word-context task: subword pieces, rarity weights, the CBOW and
skip-gram targets, and a model that trains, exports and probes like any other."""
import numpy as np
import pytest
import torch

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.errors import UserError
from sslstudio.core.export import export
from sslstudio.core.models.word_vectors import WordVectors, fnv1a, piece_ngrams
from sslstudio.core.tasks.base import make_generator
from sslstudio.core.training.session import TrainRequest, load_run, train

from .helpers import build

VOCAB = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "play": 5, "##ing": 6, "the": 7, "player": 8}


def test_pieces_have_fasttexts_boundary_marks_and_stable_hashes():
    assert fnv1a("a") == 0xE40C292C  # the published FNV-1a test vector
    buckets = 1 << 20
    assert set(piece_ngrams("play", buckets)) == {fnv1a(g) % buckets for g in ("<pl", "pla", "lay", "<pla", "play")}
    assert set(piece_ngrams("##ings", buckets)) == {fnv1a(g) % buckets for g in ("ing", "ngs")}  # no "<" mark
    assert piece_ngrams("[MASK]", buckets) == []
    shared = set(piece_ngrams("play", buckets)) & set(piece_ngrams("player", buckets))
    assert len(shared) == 5  # 'play' and 'player' share parameters


def test_a_token_vector_is_the_mean_of_its_own_and_its_ngram_vectors():
    vectors = WordVectors(VOCAB, dim=8, buckets=1 << 20)
    token = VOCAB["play"]
    grams = piece_ngrams("play", 1 << 20)
    expected = (vectors.token_embedding.weight[token] + vectors.ngram_embedding.weight[grams].sum(0)) / (1 + len(grams))
    torch.testing.assert_close(vectors.features(torch.tensor([[token]]))[0, 0], expected)


def test_texts_weigh_their_tokens_by_rarity_and_ignore_special_ones():
    vectors = WordVectors(VOCAB, dim=8)
    ids = torch.tensor([[2, 7, 5, 3, 0]])  # [CLS] the play [SEP] [PAD]
    vectors.observe(torch.tensor([[7] * 500 + [5] * 2]))  # 'the' everywhere, 'play' rare
    weights = vectors.token_weights(ids)[0]
    assert weights[0] == weights[3] == weights[4] == 0 and weights[2] > 50 * weights[1]
    tokens = vectors.features(ids)[0]
    torch.testing.assert_close(vectors(ids)[0], (weights[1] * tokens[1] + weights[2] * tokens[2]) / weights.sum())


@pytest.mark.parametrize("mode", ["cbow", "skipgram"])
def test_targets_are_the_centres_or_their_neighbours_within_each_window(tiny_text, mode):
    task, model, raw = build(tiny_text, "word_context", mode=mode)
    batch = task.make_batch(raw[:8], make_generator(3))
    p = batch.params
    rows, positions, windows = p["rows"], p["positions"], p["windows"]
    assert (raw[rows, positions] >= 5).all() and (1 <= windows).all() and (windows <= task.args.window).all()
    assert (torch.bincount(rows, minlength=8) <= task.args.centres_per_text).all()
    vectors, predicting = task.predictors(model.backbone, batch)
    if mode == "cbow":
        assert torch.equal(batch.targets, raw[rows, positions])
        n = int(torch.nonzero(windows > 1)[0])  # one centre, its mean of neighbours worked by hand
        r, i, w = int(rows[n]), int(positions[n]), int(windows[n])
        near = [j for j in range(max(0, i - w), min(raw.shape[1], i + w + 1)) if j != i and raw[r, j] >= 5]
        torch.testing.assert_close(predicting[n], vectors[r, near].mean(0))
    else:
        owners = p["owners"]
        assert len(batch.targets) > len(rows)  # several neighbours per centre
        torch.testing.assert_close(predicting, vectors[rows[owners], positions[owners]])
        assert (batch.targets >= 5).all()
    assert p["negatives"].shape == (len(batch.targets), task.args.negatives)


def test_frequent_tokens_are_seldom_centres(tiny_text):
    task, _, raw = build(tiny_text, "word_context", subsample=1e-3)
    ids = raw.clone()
    odd = ids[:, 1::2]
    ids[:, 1::2] = torch.where(odd >= 5, torch.full_like(odd, 7), odd)  # one token, half of all
    batch = task.make_batch(ids, make_generator(0))
    picked = ids[batch.params["rows"], batch.params["positions"]]
    frequent_share = (ids == 7).sum() / (ids >= 5).sum()
    assert (picked == 7).float().mean() < frequent_share / 4


def test_it_trains_only_word_vectors_and_the_model_exports(tiny_text, tmp_path):
    with pytest.raises(UserError, match="word_context trains only word_vectors, not transformer_tiny"):
        train(TrainRequest(tiny_text, tmp_path / "no", "word_context", backbone="transformer_tiny"))
    with pytest.raises(UserError, match="mlm trains only transformer_tiny or transformer_small, not word_vectors"):
        train(TrainRequest(tiny_text, tmp_path / "no", "mlm", backbone="word_vectors"))
    finished = train(TrainRequest(tiny_text, tmp_path / "run", "word_context",
                                  train_settings={"max_steps": 6, "batch_size": 8}))
    assert finished.step == 6
    run = load_run(tmp_path / "run")
    assert run.backbone.token_counts.sum() > 0  # the rarity weights travel with the checkpoint
    raw = run.pipeline.export_raw(load_folder(tiny_text), range(10))
    for fmt in ("torchscript", "onnx"):
        report = export(run, tmp_path / f"model.{fmt}", fmt, raw)
        assert report.passed and report.max_abs_diff <= 1e-4, report
    assert np.isfinite(run.backbone(raw).detach().numpy()).all()

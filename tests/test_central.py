"""Distillation targets (whorf.train.central): a model's central outputs are exactly what inference
decides with, and the student's shifted training windows cover every word once with moving edges."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from whorf import model as modeling
from whorf.compressor import Compressor
from whorf.scoring import pack
from whorf.train.central import central_outputs, documents, shifted_windows, token_index, word_scores

TEXT = ("The build failed because pytest could not import the module named whorf.train.central; "
        "check the PYTHONPATH and run pip install -e . before the tests. ") * 12


@pytest.fixture(scope="module")
def loaded(tiny_model_dir):
    model = modeling.load(tiny_model_dir)
    model.config.max_length = 32  # many windows for a short text
    return model


def items(texts, domains):
    return [SimpleNamespace(words=t.split(), domain=d) for t, d in zip(texts, domains)]


@pytest.mark.parametrize("overlap", [0.0, 0.125, 0.25])
def test_central_outputs_pool_to_the_scores_inference_decides_with(loaded, overlap):
    texts = [TEXT, "short one", TEXT[:300]]
    domains = ["prose", "log", "diagnostics"]
    docs = documents(items(texts, domains), loaded)
    comp = Compressor(loaded, runtime="torch")
    got = central_outputs(loaded.model, docs, loaded.tokenizer, loaded.config.max_length, overlap, batch_size=3)
    comp.scorer.overlap = overlap
    prefixes = [loaded.config.domain_prefixes[d] for d in domains]
    expected = comp.scorer.score([t.split() for t in texts], prefixes)
    for doc, out, want in zip(docs, got, expected):
        assert out.shape == (doc.tokens, 3)
        np.testing.assert_allclose(word_scores(out, doc, loaded.config.pooling), want, atol=2e-5)


def test_shifted_windows_hold_every_word_once_and_move_their_edges(loaded):
    docs = documents(items([TEXT, TEXT[:200], ""], ["prose"] * 3), loaded)
    edges = set()
    for seed in range(5):
        wins = shifted_windows(docs, loaded.tokenizer, loaded.config.max_length, np.random.default_rng(seed))
        for d, doc in enumerate(docs):
            mine = [w for e, w in wins if e == d]
            covered = [i for w in mine for i in range(w.start, w.end)]
            assert covered == list(range(len(doc.pieces)))  # each word once, in order, none lost
            assert all(len(w.ids) <= loaded.config.max_length for w in mine)
            for w in mine:  # every word token maps to its own token of the document
                index = token_index(doc, w)
                flat = [t for p in doc.pieces for t in p]
                assert [w.ids[k] for k in np.flatnonzero(index >= 0)] == [flat[i] for i in index[index >= 0]]
        edges.add(tuple(w.end for e, w in wins if e == 0))
    assert len(edges) > 1


def test_pack_caps_only_the_first_window(loaded):
    pieces = [[5, 6]] * 40
    wins = pack(0, pieces, [], 20, 101, 102, 0.0, first=15)
    assert wins[0].end - wins[0].start == 7  # 14 tokens fit in the first 15
    assert pack(0, pieces, [], 20, 101, 102, 0.0, first=1)[0].end == 6  # never under a long word's 12 tokens
    assert all(w.end - w.start == 9 for w in wins[1:-1])  # 18-token budget afterwards
    assert [i for w in wins for i in range(w.start, w.end)] == list(range(40))


def test_central_outputs_of_an_empty_document_are_empty(loaded):
    docs = documents(items(["", "a b c"], ["prose", "prose"]), loaded)
    got = central_outputs(loaded.model, docs, loaded.tokenizer, loaded.config.max_length, 0.125)
    assert got[0].shape == (0, 3) and got[1].shape[0] == docs[1].tokens
    with torch.inference_mode():
        assert np.isfinite(got[1]).all()

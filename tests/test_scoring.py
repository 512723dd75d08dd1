import numpy as np

from whorf import model as modeling
from whorf.config import ModelConfig
from whorf.runtime import TorchRuntime
from whorf.scoring import Scorer, WordTokens, centrality, pack, pool


def test_windows_cover_every_word_fit_and_overlap(tiny_bert):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    words = [f"word{i % 17} x{i}" for i in range(400)]
    pieces = WordTokens(tok)(words)
    windows = pack(0, pieces, [101, 102], 64, 101, 102)
    covered = set()
    for a, b in zip(windows, windows[1:]):
        assert b.start < a.end  # overlap
        assert b.start > a.start  # progress
    for w in windows:
        assert len(w.ids) <= 64
        covered.update(range(w.start, w.end))
    assert covered == set(range(len(words)))


def test_each_word_is_scored_from_a_window_where_it_has_context(tiny_bert):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    words = ["token"] * 500
    pieces = WordTokens(tok)(words)
    windows = pack(0, pieces, [], 64, 101, 102)
    best = {}
    for w in windows:
        for i, c in centrality(w, pieces, len(words)).items():
            best[i] = max(best.get(i, -1), c)
    budget = 62
    for i, c in best.items():
        edge = min(i, len(words) - 1 - i)
        assert c >= min(edge, budget // 8), (i, c)


def test_window_edge_words_get_the_same_decision_as_in_the_middle(tiny_bert):
    """A periodic text: every occurrence of a word sees the same context wherever windows fall.

    Position embeddings are zeroed so the model depends on content only; any error in mapping window
    scores back to words, or a word scored from a window with too little context, shows as spread.
    """
    import torch

    loaded = modeling.build(ModelConfig(backbone=str(tiny_bert), lora=None))
    with torch.no_grad():
        loaded.model.encoder.embeddings.position_embeddings.weight.zero_()
    scorer = Scorer(loaded.tokenizer, TorchRuntime(loaded.model), max_length=48)
    period = "error at 0x7f in lib.so the process was killed".split()
    words = period * 40
    (s,) = scorer.score([words], [""])
    core = s[len(period) * 3:-len(period) * 3].reshape(-1, len(period))
    spread = core.max(axis=0) - core.min(axis=0)
    assert spread.max() < 0.05
    means = np.sort(core.mean(axis=0))
    gap = int(np.argmax(np.diff(means)))
    threshold = (means[gap] + means[gap + 1]) / 2  # a decision boundary between the period's words
    decisions = core > threshold
    assert (decisions == decisions[0]).all()


def test_long_input_scores_match_a_single_window_where_it_fits(tiny_bert):
    loaded = modeling.build(ModelConfig(backbone=str(tiny_bert), lora=None))
    words = "a short input that fits in one window easily".split()
    (one,) = Scorer(loaded.tokenizer, TorchRuntime(loaded.model), max_length=512).score([words], [""])
    (again,) = Scorer(loaded.tokenizer, TorchRuntime(loaded.model), max_length=512, batch_size=1).score([words], [""])
    np.testing.assert_allclose(one, again, atol=1e-5)


def test_pooling_modes():
    scores = np.array([0.0, 0.2, 0.8, 0.4, 0.0], dtype=np.float32)
    owner = np.array([-1, 0, 0, 1, -1])
    assert pool(scores, owner, 2, "max").tolist() == [np.float32(0.8), np.float32(0.4)]
    np.testing.assert_allclose(pool(scores, owner, 2, "mean"), [0.5, 0.4])
    np.testing.assert_allclose(pool(scores, owner, 2, "first"), [0.2, 0.4])


def test_huge_words_are_truncated_for_scoring(tiny_bert):
    from transformers import AutoTokenizer

    tok = WordTokens(AutoTokenizer.from_pretrained(tiny_bert))
    (ids,) = tok(["x" * 100_000])
    assert 0 < len(ids) <= 12
    assert tok.count(["x" * 100_000]) >= 25_000

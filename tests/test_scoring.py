import numpy as np
import pytest

from whorf import model as modeling
from whorf.config import ModelConfig
from whorf.runtime import TorchRuntime
from whorf.scoring import Scorer, WordTokens, centrality, pack, pool, special_ids


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
    sizes = np.array([len(p) for p in pieces])
    windows = pack(0, pieces, [], 64, 101, 102)
    best = np.full(len(words), -1.0)
    for w in windows:
        best[w.start:w.end] = np.maximum(best[w.start:w.end], centrality(w, sizes, len(words)))
    budget = 62
    for i, c in enumerate(best):
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


def test_long_input_over_many_windows_scores_the_same_whatever_the_batching(tiny_bert):
    """~2,000 words over dozens of windows of different lengths: padding in a batch, the order of
    windows and the other documents of the batch change nothing."""
    loaded = modeling.build(ModelConfig(backbone=str(tiny_bert), lora=None))
    rng = np.random.default_rng(0)
    vocab = "error warning the process at 0x7f lib.so killed retry timeout=30 /var/log/syslog ENOENT not".split()
    long_words = [vocab[i] for i in rng.integers(0, len(vocab), 2000)]
    short_words = "a short input that fits in one window".split()
    runtime = TorchRuntime(loaded.model)
    batched = Scorer(loaded.tokenizer, runtime, max_length=64, batch_size=16)
    single = Scorer(loaded.tokenizer, runtime, max_length=64, batch_size=1)
    windows, _ = batched.windows([long_words], ["LOG:"])
    assert len(windows) > 30 and len({len(w.ids) for w in windows}) > 1
    long_a, short_a = batched.score([long_words, short_words], ["LOG:", "TEXT:"])
    (long_b,) = single.score([long_words], ["LOG:"])
    (short_b,) = single.score([short_words], ["TEXT:"])
    assert long_a.shape == (2000,) and (long_a >= 0).all()
    # padded positions read as zeros in the span head: batching changes no score
    np.testing.assert_allclose(long_a, long_b, atol=1e-5)
    np.testing.assert_allclose(short_a, short_b, atol=1e-5)


def test_padding_does_not_change_the_last_words_of_a_document(tiny_bert):
    loaded = modeling.build(ModelConfig(backbone=str(tiny_bert), lora=None))
    runtime = TorchRuntime(loaded.model)
    words = ("the worker restarted after the error " * 60).split()
    short = "one two three".split()
    (alone,) = Scorer(loaded.tokenizer, runtime, max_length=64, batch_size=1).score([words], [""])
    together, _ = Scorer(loaded.tokenizer, runtime, max_length=64, batch_size=64).score([words, short], ["", ""])
    np.testing.assert_allclose(together, alone, atol=1e-5)


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


def test_the_light_tokenizer_matches_the_transformers_one(tiny_bert):
    """The light path reads tokenizer.json with ``tokenizers`` alone: same pieces, same special ids."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(tiny_bert)
    raw = Tokenizer.from_file(str(tiny_bert / "tokenizer.json"))
    words = "Traceback: ValueError at /app/main.py:42 Cargo.toml 0x7fff2038 naïve 東京 \x00\x01 ---".split()
    assert WordTokens(hf)(words) == WordTokens(raw)(words)
    assert special_ids(hf) == special_ids(raw)
    assert WordTokens(raw)(["\x00"]) == [[hf.unk_token_id]]  # a word the normalizer empties


# --- byte-level BPE (RoBERTa/ModernBERT-style) tokenizer, trained here with the tokenizers library ---

CORPUS = [
    "the build failed with an error in the linker",
    "an error occurred while reading the config file",
    "retry after the error clears and the worker restarts",
    "the process exited with error code 132 after a timeout",
    "warning: the disk is almost full on the build host",
] * 20


@pytest.fixture(scope="module")
def byte_bpe():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)  # RoBERTa's default
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
    return tok


class PieceScores:
    """A deterministic runtime: every token's score is a hash of its id (0 for padding)."""

    name = "piece-scores"

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        return piece_score(input_ids) * attention_mask


def piece_score(ids):
    return ((np.asarray(ids, dtype=np.int64) * 7919) % 1009 / 1009.0).astype(np.float32)


def test_byte_level_words_are_tokenized_as_in_running_text(byte_bpe):
    words = WordTokens(byte_bpe)
    (alone,) = words(["error"])
    assert [byte_bpe.id_to_token(i) for i in alone] == ["Ġerror"]
    running = byte_bpe.encode("the build failed with an error in the linker", add_special_tokens=False)
    assert alone[0] in running.ids
    bare = byte_bpe.encode(["error"], is_pretokenized=True, add_special_tokens=False).tokens  # without the fix
    assert bare != ["Ġerror"]
    from transformers import PreTrainedTokenizerFast

    wrapped = PreTrainedTokenizerFast(tokenizer_object=byte_bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    sample = "an error occurred: Cargo.toml 0x7f naïve".split()
    assert WordTokens(wrapped)(sample) == words(sample)


def test_byte_level_word_scores_pool_their_own_pieces(byte_bpe):
    """Over many windows, each word's score is the max of the scores of its own pieces in running text."""
    rng = np.random.default_rng(1)
    vocab = " ".join(CORPUS[:5]).split() + ["Cargo.toml", "0x7fff2038", "--retries=5", "naïve"]
    words = [vocab[i] for i in rng.integers(0, len(vocab), 600)]
    scorer = Scorer(byte_bpe, PieceScores(), max_length=40, batch_size=8)
    counting = scorer.tokens.backend = CountingTokenizer(scorer.tokens.backend)
    (scores,) = scorer.score([words], [""])
    assert counting.calls == 1  # one encode call for the whole batch, not one per word
    assert len(scorer.windows([words], [""])[0]) > 20
    text = " " + " ".join(words)
    enc = byte_bpe.encode(text, add_special_tokens=False)
    starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]]) + 1
    expected = np.full(len(words), -1.0, dtype=np.float32)
    for token, (_, end) in zip(enc.ids, enc.offsets):
        i = int(np.searchsorted(starts, end - 1, side="right") - 1)
        expected[i] = max(expected[i], piece_score([token])[0])
    np.testing.assert_allclose(scores, expected, atol=1e-6)


class CountingTokenizer:
    def __init__(self, inner):
        self.inner = inner
        self.calls = 0

    def encode(self, *args, **kwargs):
        self.calls += 1
        return self.inner.encode(*args, **kwargs)


def test_batches_hold_every_window_once_with_little_padding(tiny_bert):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from whorf.scoring import MAX_PAD, Window

    loaded = modeling.build(ModelConfig(backbone=str(tiny_bert), lora=None))
    scorer = Scorer(loaded.tokenizer, TorchRuntime(loaded.model), max_length=64, batch_size=4)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.integers(3, 64), max_size=40))
    def check(lengths):
        windows = [Window(i, 0, 1, [7] * n, [0] * n) for i, n in enumerate(lengths)]
        got = scorer.batches(windows)
        assert sorted(w.doc for batch, _, _ in got for w in batch) == list(range(len(lengths)))
        for batch, ids, mask in got:
            assert 1 <= len(batch) <= 4 and ids.shape == mask.shape == (len(batch), max(len(w.ids) for w in batch))
            assert all(len(w.ids) >= (1 - MAX_PAD) * ids.shape[1] for w in batch)
            assert [int(m.sum()) for m in mask] == [len(w.ids) for w in batch]

    check()

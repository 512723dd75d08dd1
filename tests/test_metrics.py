import math

import pytest

from whorf.eval import metrics


def test_exact_keep_pct_counts_seed_matches_surviving_as_substrings():
    original = "Process exited with SIGILL at 0x7fff2038 in libsystem_kernel.dylib"
    # seed matches: SIGILL, 0, 7, 2038 (digits of 0x7fff2038), libsystem_kernel.dylib
    matches = metrics.load_profile("seed").matches(original)
    assert matches == ["SIGILL", "0", "7", "2038", "libsystem_kernel.dylib"]
    assert metrics.exact_keep_pct(original, original) == 1.0
    assert metrics.exact_keep_pct(original, "exited at 0x7fff2038") == pytest.approx(3 / 5)
    assert metrics.exact_keep_pct(original, "") == 0.0
    assert metrics.exact_keep_pct("no patterns here", "") == 1.0


def test_mk_in_ref_is_exact_keep_pct_against_the_reference():
    assert metrics.mk_in_ref("error 42 in main.py", "error 42") == pytest.approx(1 / 2)


def test_override_delta():
    assert metrics.override_delta(1.0, 0.94) == pytest.approx(0.06)


def test_keep_rates(tiny_bert):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    assert metrics.word_keep_rate("a b c d", "a d") == 0.5
    assert metrics.word_keep_rate("", "") == 1.0
    # "unbelievable" is several word pieces; "a" is one
    n = len(tok("a unbelievable", add_special_tokens=False)["input_ids"])
    assert metrics.token_keep_rate("a unbelievable", "a", tok) == pytest.approx(1 / n)


def test_word_f1_hand_computed():
    r = metrics.word_f1([1, 1, 0, 0], [1, 0, 1, 0])
    assert r == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert metrics.word_f1([0, 0], [0, 0])["f1"] == 1.0


def test_sem_sim_identity_and_order():
    e = metrics.embedder()
    same, related, unrelated = e.sem_sim(
        ["the build failed with a linker error"] * 3,
        ["the build failed with a linker error", "build failed linker error", "I like green apples in summer"],
    )
    assert same == pytest.approx(1.0, abs=1e-5)
    assert related > unrelated


def test_sem_sim_chunks_long_texts():
    e = metrics.Embedder(chunk_words=5)
    long = " ".join(["alpha beta gamma delta epsilon"] * 6)
    (sim,) = e.sem_sim([long], [long])
    assert sim == pytest.approx(1.0, abs=1e-5)
    assert not math.isnan(sim)

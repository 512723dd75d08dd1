import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from whorf.decide import by_rate, decide


@given(st.lists(st.floats(0, 1), min_size=1, max_size=300), st.floats(0.01, 1.0))
@settings(max_examples=300)
def test_rate_mode_hits_its_rate_within_one_word(scores, rate):
    keep = by_rate(np.array(scores, dtype=np.float32), rate)
    assert abs(keep.sum() - rate * len(scores)) <= 1


@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=300), st.floats(0.01, 1.0))
@settings(max_examples=300)
def test_rate_mode_counts_forced_words_and_keeps_all_of_them(rows, rate):
    scores = np.array([s for s, _ in rows], dtype=np.float32)
    forced = np.array([f for _, f in rows])
    keep = by_rate(scores, rate, forced)
    assert keep[forced].all()
    assert keep.sum() == max(int(forced.sum()), int(np.floor(rate * len(rows) + 0.5)))


def test_rate_mode_prefers_high_scores():
    keep = by_rate(np.array([0.1, 0.9, 0.5, 0.7]), 0.5)
    assert keep.tolist() == [False, True, False, True]


def test_threshold_is_strict_and_override_forces():
    scores = np.array([0.5, 0.51, 0.2])
    assert decide(scores, [False, False, True], threshold=0.5, override=False).tolist() == [False, True, False]
    assert decide(scores, [False, False, True], threshold=0.5, override=True).tolist() == [False, True, True]

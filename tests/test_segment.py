from hypothesis import given, settings
from hypothesis import strategies as st

from whorf.segment import rebuild, segment

TEXT = st.text(alphabet=st.sampled_from(list("ab1 .-_/\t\n\r") + ["é", "字", "\u00a0"]), max_size=200)


def words(s: str) -> list[str]:
    return s.split()


def is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


@given(TEXT, st.data())
@settings(max_examples=300)
def test_output_words_are_the_kept_input_words_in_order(text, data):
    seg = segment(text)
    keep = data.draw(st.lists(st.booleans(), min_size=len(seg.words), max_size=len(seg.words)))
    out = rebuild(seg, keep)
    assert words(out) == [w.text for w, k in zip(seg.words, keep) if k]
    assert is_subsequence(words(out), words(text))


@given(TEXT, st.data())
@settings(max_examples=200)
def test_line_order_is_kept_and_lines_are_never_fused(text, data):
    seg = segment(text)
    keep = data.draw(st.lists(st.booleans(), min_size=len(seg.words), max_size=len(seg.words)))
    out = rebuild(seg, keep)
    kept_lines = [ln for ln in sorted({w.line for w, k in zip(seg.words, keep) if k})]
    out_lines = [ln for ln in out.split("\n") if ln.strip()]  # whorf lines end at \n only
    assert len(out_lines) == len(kept_lines)
    for out_line, number in zip(out_lines, kept_lines):
        expected = [w.text for w, k in zip(seg.words, keep) if k and w.line == number]
        assert out_line.split() == expected


def test_offsets_point_at_the_words():
    text = "  File \"/srv/app.py\", line 3\n\tValueError: bad\r\nend"
    seg = segment(text)
    assert [text[w.start:w.end] for w in seg.words] == text.split()
    assert [w.line for w in seg.words] == [0, 0, 0, 0, 1, 1, 2]


def test_keep_all_preserves_indentation_separators_and_line_endings():
    text = "def f(x):\n    return  x\t+ 1\r\n\n  end"
    seg = segment(text)
    out = rebuild(seg, [True] * len(seg.words))
    assert out == text  # blank lines included: they are the paragraph breaks


def test_blank_lines_between_kept_lines_stay_and_runs_around_a_dropped_paragraph_merge():
    seg = segment("A a\n\nB b\n\n\nC c\n")
    assert rebuild(seg, [1, 1, 0, 0, 1, 1]) == "A a\n\n\nC c\n"  # the run nearest the next kept line
    assert rebuild(seg, [1, 1, 1, 1, 0, 0]) == "A a\n\nB b\n"  # nothing kept after: no trailing blanks
    assert rebuild(seg, [0, 0, 1, 1, 1, 1]) == "B b\n\n\nC c\n"  # nor leading ones


def test_dropped_words_join_neighbours_with_one_space_and_keep_indentation():
    text = "    alpha beta\tgamma delta\nzeta eta"
    seg = segment(text)
    assert rebuild(seg, [True, False, True, True, False, False]) == "    alpha gamma delta"
    assert rebuild(seg, [False, True, False, False, True, False]) == "    beta\nzeta"


def test_drop_marker_is_opt_in():
    seg = segment("a b c d")
    assert rebuild(seg, [True, False, False, True], drop_marker="…") == "a … d"


def test_trailing_newline_follows_the_input():
    seg = segment("a\nb\n")
    assert rebuild(seg, [True, False]) == "a\n"
    seg = segment("a\nb")
    assert rebuild(seg, [True, False]) == "a"

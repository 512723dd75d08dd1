"""Every passthrough the compressor decides lives in whorf/passthrough.py: admission and the two gain floors."""

import pytest

from whorf.config import CompressOptions
from whorf.passthrough import admit, prose_floor, saving_floor
from whorf.structure.plan import Piece, Plan


def test_admission_reasons():
    opts = CompressOptions(max_chars=100)
    assert admit("plain text", opts) == ("plain text", None)
    assert admit(b"caf\xc3\xa9 ok", opts) == ("café ok", None)
    assert admit("   \n\t", opts)[1] == "empty input"
    assert "max_chars=100" in admit("x" * 101, opts)[1]
    assert admit("bad \ud800 surrogate", opts)[1] == "invalid UTF-8 (surrogates)"
    assert admit(b"\xff\xfe\x00\x00binary\x00\x00", opts)[1]
    with pytest.raises(TypeError, match="str or bytes"):
        admit(42, opts)  # type: ignore[arg-type]


def test_the_prose_floor_counts_only_the_words_pieces():
    text = "short note here\n" + "a listing line\n" * 50
    plan = Plan("log", [Piece(0, 16, "words"), Piece(16, len(text), "keep")])
    assert "3 words < min_prose_words=12" in prose_floor(text, plan, CompressOptions(min_prose_words=12))
    assert prose_floor(text, plan, CompressOptions(min_prose_words=3)) is None
    assert prose_floor(text, plan, CompressOptions(min_prose_words=12, structure=False)) is None
    assert prose_floor(text, Plan("log", [Piece(0, len(text), "keep")]), CompressOptions(min_prose_words=12)) is None


def test_the_saving_floor_undoes_deletions_worth_too_few_tokens():
    count = lambda words: sum(len(w) // 3 + 1 for w in words)  # noqa: E731 - a token count of a word list
    opts = CompressOptions(min_saving_tokens=10)
    assert "deleting would save 3 tokens < min_saving_tokens=10" in saving_floor(["the", "a"], count, opts)
    assert saving_floor(["word"] * 20, count, opts) is None
    assert saving_floor([], count, opts) is None
    assert saving_floor(["the"], count, CompressOptions(min_saving_tokens=0)) is None

"""Agent envelopes (Codex's exec header): the body is decided by its own shape, the header kept byte for byte."""

from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from whorf import envelopes, structure
from whorf.config import CompressOptions
from whorf.domain import route

LOG = (FIXTURES / "programs" / "git_log_stat.txt").read_text()
UNIFIED = ("Chunk ID: 4f1c2a\nWall time: 0.0521 seconds\nProcess exited with code 0\n"
           "Original token count: 2613\nOutput:\n")
SHELL = "Exit code: 0\nWall time: 0.3 seconds\nOutput:\n"


def test_both_codex_headers_are_recognised_and_split_losslessly():
    for header in (UNIFIED, SHELL):
        found = envelopes.split(header + LOG)
        assert found is not None and found.header == header and found.body == LOG
        assert structure.shape(found.body, route(found.body)) == "gitlog"


def test_text_without_an_envelope_is_left_alone():
    assert envelopes.split(LOG) is None
    assert envelopes.split("Output:\n" + LOG) is None  # one line is not a header
    assert envelopes.split("Exit code: 0\nsomething else\n") is None


def test_a_commit_log_behind_the_header_is_decided_as_the_bare_log(tiny_compressor):
    opts = CompressOptions(store=False, budget_tokens=600)
    bare = tiny_compressor.compress(LOG, opts)
    for header in (UNIFIED, SHELL):
        wrapped = tiny_compressor.compress(header + LOG, opts)
        assert wrapped.text == header + bare.text
        assert [(m.unit, m.count) for m in wrapped.markers] == [(m.unit, m.count) for m in bare.markers]
        assert wrapped.markers and wrapped.markers[0].line == bare.markers[0].line + header.count("\n")


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=300))
def test_split_never_loses_a_character(text):
    for candidate in (text, SHELL + text, UNIFIED + text):
        found = envelopes.split(candidate)
        assert found is None or found.header + found.body == candidate

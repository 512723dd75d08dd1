"""The corpus rows the router sends to `structure/logs.py` (shape `log`): facts kept, checks passed."""

import re

import pytest
from hypothesis import given, settings, strategies as st

from corpus import check, rows

CASES = rows("log")


def test_the_router_sends_some_corpus_rows_here():
    assert CASES


@pytest.mark.parametrize("name,text,case", CASES, ids=[c[0] for c in CASES])
def test_corpus_row(name, text, case):
    check(text, case)


# The plain forms of the two patterns (before the first-letter lookaheads that make the search skip ahead):
# the fast forms must match exactly where these do.
PLAIN_EXCEPTION = re.compile(
    r"^\s*Traceback \(most recent call last\)|^\s*Caused by:|\b[\w.]*(Error|Exception)(:|$)|\bpanicked at\b"
    r"|\bSegmentation fault\b|\bcore dumped\b|^\s*Exception in thread\b"
    r'|"(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) [^"]*" [45]\d\d\b|\bcode [45]\d\d\b'
)
PLAIN_SEVERE = re.compile(
    r"\b(ERROR|ERR|WARN|WARNING|FATAL|CRITICAL|CRIT|SEVERE|ALERT|EMERG|PANIC)\b|\blevel=\"?(error|warn|warning|fatal|critical)\b",
    re.IGNORECASE,
)
PLAIN_ERROR_WORD = re.compile(
    r"\b(error|errors|errored|fail|failed|failing|failure|fatal|critical|exception|denied|forbidden|timeout|"
    r"timed out|panic|crash|crashed|crashloopbackoff|killed|oomkilled|oom|refused|invalid|unhealthy|degraded|"
    r"down|unavailable|evicted|backoff|rejected|aborted|cancelled|canceled|vulnerable|high|severe)\b",
    re.IGNORECASE,
)
PIECES = ["Traceback (most recent call last):", "Caused by:", "Exception in thread", "ValueError:", "a.b.Exception",
          "Error", "panicked at", "Segmentation fault", "core dumped", '"GET /x HTTP/1.1" 404', "code 503", "ERROR",
          "[warn]", "level=error", 'level="fatal"', "Crit", "errors", "xERROR", "_Error:", ".Exception", "info", " ",
          "\t", ":", "é", "ſ", "\u212a", "2017-05-16 00:00:00", "E", "p", "S", "c", '"', "0"]


@given(st.lists(st.sampled_from(PIECES), max_size=8).map("".join))
@settings(max_examples=600, deadline=None)
def test_the_fast_patterns_match_where_the_plain_ones_do(line):
    from whorf.structure.logs import EXCEPTION, SEVERE_WORD

    assert bool(EXCEPTION.search(line)) == bool(PLAIN_EXCEPTION.search(line))
    assert [m.group(0) for m in SEVERE_WORD.finditer(line)] == [m.group(0) for m in PLAIN_SEVERE.finditer(line)]


@given(st.lists(st.sampled_from(["error", "Errors", "timed out", "timed", "out", "downstream", "down", "OOM", "x", "ſevere", "\u212ailled",
                                 " ", "\n", "_", "-", "high", "ok", "é"]), max_size=10).map("".join))
@settings(max_examples=400, deadline=None)
def test_error_words_are_found_per_value_as_before(text):
    from whorf.structure.records import ERROR_WORD, _error_words

    plain = PLAIN_ERROR_WORD
    values = text.split("\n") + [3, None, text]
    assert _error_words(values) == [isinstance(v, str) and bool(plain.search(v[:500])) for v in values]
    assert [m.group(0) for m in ERROR_WORD.finditer(text)] == [m.group(0) for m in plain.finditer(text)]

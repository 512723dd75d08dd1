"""The agent's intent: the query only reorders what the budget drops; without a budget, or with a query
that matches nothing, the output is the output without a query."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from whorf import structure
from whorf.config import CompressOptions
from whorf.domain import route
from whorf.jsonl import compress_rows
from whorf.proxy.rewrite import anthropic_slots, openai_slots
from whorf.structure import checks, relevance

_MATCHES = [f"src/pkg/mod_{i:02d}.py:{10 + j}:    def handler_{i}_{j}(request):" for i in range(20) for j in range(6)]
_MATCHES.insert(60, "src/pkg/compress.py:118:def load_compressor(path):")  # in the middle: the first to go
GREP = "\n".join(_MATCHES) + "\n"


def test_identifier_splitting():
    assert {"log", "compressor", "log_compressor"} <= set(relevance.terms("log_compressor"))
    assert {"log", "compressor"} <= set(relevance.terms("LogCompressor"))
    assert relevance.scores(["a", "b"], None) == [0.0, 0.0]


def test_over_the_budget_the_line_the_query_names_survives():
    plain = structure.plan(GREP, route(GREP), 800).render(GREP)
    asked = structure.plan(GREP, route(GREP), 800, "where is the compressor loaded?").render(GREP)
    answer = "src/pkg/compress.py:118:def load_compressor(path):"
    assert answer in asked.splitlines() and answer not in plain.splitlines()
    assert checks.verbatim(GREP, asked) == []


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=40))
def test_under_the_budget_or_without_a_match_the_query_changes_nothing(query):
    assert structure.plan(GREP, route(GREP), None, query).render(GREP) == GREP
    if not set(relevance.terms(query)) & set(relevance.terms(GREP)):
        a = structure.plan(GREP, route(GREP), 800, query).render(GREP)
        assert a == structure.plan(GREP, route(GREP), 800).render(GREP)


def test_compressor_and_jsonl_take_the_query(tiny_compressor):
    opts = CompressOptions(store=False, budget_tokens=200)
    asked = tiny_compressor.compress(GREP, opts, query="load_compressor").text
    assert "def load_compressor(path):" in asked
    rows = (json.dumps({"text": GREP, "query": "load_compressor"}) + "\n" + json.dumps({"text": GREP}) + "\n").encode()
    out = [r.result.text for r in compress_rows(tiny_compressor, rows, opts)]
    assert out[0] == asked and "def load_compressor(path):" not in out[1]


def test_the_proxy_builds_a_query_from_the_conversation():
    body = {"messages": [
        {"role": "user", "content": "Why does the log compressor crash?"},
        {"role": "assistant", "content": [{"type": "text", "text": "Let me search for it."},
                                          {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "git grep -n compress"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "a.py:1:x"}]}]}
    (slot,) = anthropic_slots(body)
    assert "log compressor crash" in slot.query and "Let me search" in slot.query and "git grep -n compress" in slot.query
    body = {"messages": [
        {"role": "user", "content": "find the parser"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                                "function": {"name": "shell", "arguments": "{\"cmd\": \"ls src\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "parser.py"}]}
    (slot,) = openai_slots(body)
    assert "find the parser" in slot.query and "shell" in slot.query and "ls src" in slot.query


def test_a_commit_log_over_the_budget_fits_it_with_a_query_too():
    from conftest import FIXTURES

    text = (FIXTURES / "programs" / "git_log_oneline.txt").read_text()
    for budget in (1000, 2000, 4000):
        for query in (None, "student distillation", "proxy", "onnx gate"):
            out = structure.plan(text, "prose", budget, query).render(text)
            # the budget counts about 60 characters per marker; real ones run a few longer
            assert len(out) <= budget + 20, (budget, query, len(out))
            assert checks.verbatim(text, out) == []

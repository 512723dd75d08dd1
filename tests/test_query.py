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
from whorf.structure.relevance import STOP

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
    # what was asked, without the command's own words (the command chose its output: no evidence)
    assert "log compressor crash" in slot.query and "Let me search" in slot.query
    assert "git" not in slot.query and "grep" not in slot.query
    body = {"messages": [
        {"role": "user", "content": "find the parser"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                                "function": {"name": "shell", "arguments": "{\"cmd\": \"ls src\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "parser.py"}]}
    (slot,) = openai_slots(body)
    assert slot.query == "find the parser"


def test_a_commit_log_over_the_budget_fits_it_with_a_query_too():
    from conftest import FIXTURES

    text = (FIXTURES / "programs" / "git_log_oneline.txt").read_text()
    for budget in (1000, 2000, 4000):
        for query in (None, "student distillation", "proxy", "onnx gate"):
            out = structure.plan(text, "prose", budget, query).render(text)
            # the budget counts about 70 characters per marker; real ones vary a little
            assert len(out) <= budget + 20, (budget, query, len(out))
            assert checks.verbatim(text, out) == []


def test_the_query_budget_applies_only_when_the_query_names_something_in_the_output(tiny_compressor):
    opts = CompressOptions(store=False, query_budget_tokens=100)  # the default budget (8,000 tokens) holds GREP whole
    assert tiny_compressor.compress(GREP, opts).text == GREP  # no query: the query budget is not used
    assert tiny_compressor.compress(GREP, opts, query="zebra quartz").text == GREP  # names nothing in it
    asked = tiny_compressor.compress(GREP, opts, query="where is load_compressor?").text
    assert "src/pkg/compress.py:118:def load_compressor(path):" in asked.splitlines()
    assert len(asked) <= 400 + 80 and checks.verbatim(GREP, asked) == []


def test_a_term_in_most_units_tells_none_apart():
    units = [f"user{i} quota {i}" for i in range(10)]
    assert relevance.scores(units, "quota") == [0.0] * 10
    scores = relevance.scores(units, "quota of user7")
    assert scores[7] > 0 and all(s == 0 for i, s in enumerate(scores) if i != 7)


def test_json_records_over_the_budget_fit_it_as_emitted():
    from whorf.structure import jsondoc

    doc = json.dumps({"users": [{"id": i, "name": f"user{i}", "roles": ["dev", "ops"][: i % 2 + 1],
                                 "quota": {"disk": i * 10}} for i in range(300)]}, indent=4)
    for query in (None, "the quota of user217"):
        out = structure.plan(doc, "json", 2000, query).render(doc)
        assert len(out) <= 2000 + jsondoc.MARKER_CHARS, (query, len(out))
        json.loads(out)
    assert '"user217"' in structure.plan(doc, "json", 2000, "the quota of user217").render(doc)


def test_repeated_failure_sections_go_whole_over_the_budget_and_every_failed_line_stays(tmp_path):
    import subprocess
    import sys

    (tmp_path / "test_p.py").write_text(
        "import pytest\n\n\ndef test_empty():\n    assert sum([]) == 1\n\n\n"
        "@pytest.mark.parametrize('x', range(15))\ndef test_param(x):\n    assert x * 2 == x + 1.5\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_p.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    text = run.stdout
    assert "16 failed" in text
    out = structure.plan(text, "diagnostics", 2000, "which tests fail?").render(text)
    assert len(out) < len(text) and checks.verbatim(text, out) == []
    failed = [ln for ln in text.splitlines() if ln.startswith("FAILED ")]
    assert len(failed) == 16 and all(ln in out.splitlines() for ln in failed)
    for x in range(15):  # a section is there whole or not at all: its header and its assertion together
        header = any(ln.strip("_ ") == f"test_param[{x}]" for ln in out.splitlines())
        assertion = f"E       assert ({x} * 2) == ({x} + 1.5)" in out.splitlines()
        assert header == assertion, x
    assert "E       assert 0 == 1" in out.splitlines()  # the first, different failure stays


def test_the_proxy_reads_the_intent_and_tightens_the_budget_only_with_queries_on(worker):
    import httpx

    from servers import serve, upstream_app
    from whorf.proxy.app import ProxyConfig, create_app

    body = {"model": "m", "max_tokens": 10, "messages": [
        {"role": "user", "content": "Where is load_compressor defined?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "bash", "input": {"command": "git grep -n def"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": GREP}]}]}
    seen = {}
    for queries in (False, True):
        upstream = upstream_app()
        with serve(upstream) as up:
            config = ProxyConfig(upstream=up, min_chars=10, deadline_ms=60_000, queries=queries, query_budget_tokens=100)
            with serve(create_app(config, worker=worker)) as proxy:
                r = httpx.post(f"{proxy}/v1/messages", json=body, timeout=60)
                assert r.status_code == 200
            seen[queries] = upstream.state.received[-1]["body"]
    off, on = (json.loads(seen[q])["messages"][-1]["content"][0]["content"] for q in (False, True))
    assert off == GREP
    assert len(on) < len(GREP) / 5 and "src/pkg/compress.py:118:def load_compressor(path):" in on.splitlines()


def test_the_best_match_survives_a_budget_too_small_for_its_markers():
    records = json.dumps([{"name": f"pkg{i:03d}", "version": f"1.{i}.0"} for i in range(150)] + [
        {"name": "numpy", "version": "2.4.6"}] + [{"name": f"tail{i:03d}", "version": "0.1"} for i in range(150)])
    out = structure.plan(records, "json", 400, "which version of numpy?").render(records)
    assert '"numpy","2.4.6"' in out and json.loads(out)
    listing = "\n".join(f"-rwxr-xr-x 1 root root {1000 + i} Jan  1  2025 tool{i:04d}" for i in range(800))
    listing += "\n-rwxr-xr-x 1 root root 35328 Jan  1  2025 base64\n"
    out = structure.plan(listing, route(listing), 200, "permissions of base64").render(listing)
    assert "-rwxr-xr-x 1 root root 35328 Jan  1  2025 base64" in out.splitlines()


def test_queries_in_scripts_without_letter_case_match(tiny_compressor):
    paths = "\n".join([f"/srv/项目/普通/文件_{i}.txt" for i in range(400)] + ["/srv/项目/机密/发票_特殊.txt"]) + "\n"
    for query in ("机密", "发票 特殊", "机密".encode()):
        out = tiny_compressor.compress(paths, CompressOptions(store=False, budget_tokens=100), query=query).text
        assert "/srv/项目/机密/发票_特殊.txt" in out.splitlines(), query


def test_a_single_dropped_record_is_not_replaced_by_a_longer_marker():
    recs = json.dumps([{"id": i, "name": f"user{i}", "ok": i % 2 == 0} for i in range(600)])
    out = structure.plan(recs, "json", 800).render(recs)
    assert out.count("whorf_omitted") == 1 and len(out) <= 800 + 120


def test_a_task_made_of_the_commands_words_keeps_the_whole_output():
    """The defect seen through Claude Code: "run" from the task matched a file of one commit, and the query
    budget cut a 20-commit log to 2 commits. Plain words are no evidence: the output stays whole."""
    from conftest import FIXTURES
    from whorf.structure.relevance import mentions

    text = (FIXTURES / "programs" / "git_log_stat.txt").read_text()
    body = {"messages": [
        {"role": "user", "content": "Run the shell commands you are asked to run, one at a time, then report."},
        {"role": "assistant", "content": [{"type": "text", "text": "I will run git log --stat -20."},
                                          {"type": "tool_use", "id": "t1", "name": "Bash",
                                           "input": {"command": "git log --stat -20"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": text}]}]}
    (slot,) = anthropic_slots(body)
    assert not mentions(text, slot.query)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(sorted(STOP) + ["run", "show", "list", "packages", "installed", "files",
                                                "report", "commands", "output", "shell", "please"]),
                min_size=1, max_size=8))
def test_a_query_of_plain_words_never_narrows(words):
    """A query of stop-words and plain words names nothing specific: it never brings the query budget."""
    from whorf.structure.relevance import mentions

    assert not mentions(GREP, " ".join(words))


_EVERYWHERE = sorted({t for t in relevance.terms(GREP)
                      if sum(t in relevance.terms(u) for u in _MATCHES) > len(_MATCHES) / 2})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(_EVERYWHERE + ["git", "grep", "-rn", "def", "src/", "--stat", "-20", "Bash"]),
                min_size=1, max_size=6),
       st.sampled_from(["git grep -n def", "grep -rn 'def ' src", "rg def src/pkg"]))
def test_terms_of_every_unit_and_the_commands_words_change_nothing(words, command):
    """The evidence rule, as the compressor applies it at a tight query budget: a query made of terms that
    most units share, of the command's own words, or both, is no evidence: the output is the output
    without a query (the same plan as under the normal budget)."""
    from whorf.config import CompressOptions
    from whorf.compressor import _plan
    from whorf.router import route as route_of

    opts = CompressOptions(store=False, query_budget_tokens=100)
    query = " ".join(words) + " " + command
    plain, _ = _plan(GREP, route_of(GREP), None, None, opts)
    asked, _ = _plan(GREP, route_of(GREP), query, None, opts)
    assert asked.render(GREP) == plain.render(GREP) == GREP
    assert asked.matched == ()


def test_a_specific_term_of_a_minority_is_the_evidence_and_the_stats_name_it(tiny_compressor):
    from whorf.config import CompressOptions

    opts = CompressOptions(store=False, query_budget_tokens=100)
    out = tiny_compressor.compress(GREP, opts, query="where is load_compressor?")
    assert "load_compressor" in out.stats.query_terms
    assert out.stats.omitted_by_reason.get("query", 0) > 0
    ev = relevance.evidence(_MATCHES, "the handler of mod_07")
    assert ev.terms and all(t in {"mod_07", "mod", "07"} for t in ev.terms)


def test_what_the_client_injects_into_the_users_turn_is_no_evidence():
    """Claude Code puts a <system-reminder> (today's date, ...) into the user's turn: "2026" in it matched
    the packages with 2026 versions of a pip list and narrowed it; what the client injects is not asked."""
    body = {"messages": [
        {"role": "user", "content": [{"type": "text", "text": "<system-reminder>\nToday's date is 2026-12-07.\n"
                                                              "</system-reminder>"},
                                     {"type": "text", "text": "Run the commands you are asked to run."}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash",
                                           "input": {"command": "pip list"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "certifi 2026.1.4"}]}]}
    (slot,) = anthropic_slots(body)
    assert "2026" not in (slot.query or "") and "commands" in slot.query

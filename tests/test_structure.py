"""The structural stage on real program output (tests/fixtures/programs, written by
bench/corpus/make_corpus.py): facts survive, structural checks pass, omissions are marked and retrievable."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whorf import structure
from whorf.domain import route
from whorf.store import Store, handle_of
from whorf.structure import checks, markers

from conftest import FIXTURES

PROGRAMS = FIXTURES / "programs"
CASES = sorted(p.stem for p in PROGRAMS.glob("*.json"))


def render(text: str):
    plan = structure.plan(text, route(text))
    return plan, plan.render(text)


@pytest.mark.parametrize("name", CASES)
def test_real_program_output_keeps_its_facts_and_shape(name):
    meta = json.loads((PROGRAMS / f"{name}.json").read_text())
    text = (PROGRAMS / f"{name}.txt").read_text()
    plan, out = render(text)
    assert not [p for p in plan.pieces if p.kind == "words"], "structured output must not reach the word model"
    assert [f for f in meta["facts"] if f not in out] == []
    assert {k: v for k, v in checks.run(meta["checks"] + ["subsequence"], text, out).items() if v} == {}
    assert len(out) <= len(text)


@pytest.mark.parametrize("name", CASES)
def test_every_omission_is_marked_and_retrievable_byte_for_byte(name, tmp_path):
    text = (PROGRAMS / f"{name}.txt").read_text()
    plan, out = render(text)
    store = Store(tmp_path / "store.sqlite")
    store.put_many([o.original for o in plan.omissions])
    for o in plan.omissions:
        assert o.handle in out
        assert text[o.start:o.start + len(o.original)] == o.original
        assert store.get(o.handle) == o.original
    kept_units = len([ln for ln in out.splitlines() if not markers.MARKER_LINE.match(ln)])
    if route(text) != "json":  # line-shaped: kept lines + marker counts = input lines
        assert kept_units + sum(o.count for o in plan.omissions) == len(text.splitlines())


def test_the_failed_job_survives_among_successes():
    text = (PROGRAMS / "json_jobs.txt").read_text()
    _, out = render(text)
    doc = json.loads(out)
    kept = [j for j in doc["jobs"] if markers.JSON_KEY not in j]
    assert any(j["status"] == "failure" and j["job"] == "lint-shard-23" for j in kept)
    assert len(kept) < 5
    marks = [j for j in doc["jobs"] if markers.JSON_KEY in j]
    assert sum(m[markers.JSON_KEY] for m in marks) + len(kept) == 36
    assert all(m["shared"]["status"] == "success" for m in marks)


def test_table_keeps_header_and_whole_rows_and_the_odd_row():
    text = (PROGRAMS / "sqlite_column.txt").read_text()
    _, out = render(text)
    lines = out.splitlines()
    assert lines[0] == text.splitlines()[0] and lines[1] == text.splitlines()[1]
    odd = next(ln for ln in text.splitlines() if "nightly-export-041" in ln)
    assert odd in lines


def test_pytest_passing_lines_collapse_but_failure_and_summary_stay():
    text = (PROGRAMS / "pytest_verbose.txt").read_text()
    _, out = render(text)
    assert out.count("PASSED") < 3
    assert "FAILED" in out and "1 failed, 40 passed" in out


def test_diff_keeps_every_change_and_hunk_line():
    text = (PROGRAMS / "git_diff.txt").read_text()
    _, out = render(text)
    assert checks.diff_lines(text, out) == []


def test_short_line_shaped_input_passes_through_unchanged():
    text = "\n".join(f"2024-01-01 10:00:0{i} INFO worker started job {i}" for i in range(5)) + "\n"
    plan, out = render(text)
    assert out == text and not plan.omissions


def test_repetitive_log_collapses_to_templates_and_keeps_errors():
    lines = [f"2024-01-01 10:00:{i % 60:02d} INFO request id={i} path=/api/items status=200 took={i % 7}ms"
             for i in range(300)]
    lines[150] = "2024-01-01 10:02:30 ERROR request id=150 path=/api/items failed: connection reset by peer"
    text = "\n".join(lines) + "\n"
    plan, out = render(text)
    assert lines[150] in out.splitlines() and lines[0] in out.splitlines() and lines[-1] in out.splitlines()
    assert len(out) < 0.1 * len(text)
    assert sum(o.count for o in plan.omissions) + len([x for x in out.splitlines() if not markers.MARKER_LINE.match(x)]) == 300


def test_deeply_nested_json_does_not_crash():
    text = "[" * 5000 + "]" * 5000
    plan = structure.plan(text, "json")
    assert plan.render(text) == text


def test_handles_are_content_addressed():
    assert handle_of("abc") == handle_of("abc") != handle_of("abd")
    assert markers.HANDLE.fullmatch(handle_of("x"))


records = st.fixed_dictionaries({
    "id": st.integers(0, 10**6), "name": st.text("abcdef", min_size=1, max_size=8),
    "status": st.sampled_from(["ok"]), "error": st.none(),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(records, min_size=5, max_size=40), st.integers(0, 39), st.booleans())
def test_json_arrays_stay_json_and_keep_the_outlier(items, where, indent):
    where = where % len(items)
    items[where] = {**items[where], "status": "failed", "error": "disk full"}
    text = json.dumps({"items": items}, indent=2 if indent else None)
    _, out = render(text)
    assert checks.json_shape(text, out) == []
    doc = json.loads(out)
    assert any(i.get("status") == "failed" for i in doc["items"])
    assert len(out) <= len(text)


log_line = st.builds(
    lambda lvl, n, word: f"2024-05-0{n % 9 + 1} 12:00:{n % 60:02d} {lvl} worker {word} id={n}",
    st.sampled_from(["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]), st.integers(0, 999),
    st.sampled_from(["started", "stopped", "retrying", "ok"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(log_line, min_size=1, max_size=120), st.booleans())
def test_logs_are_line_atomic_and_never_longer(lines, trailing_newline):
    text = "\n".join(lines) + ("\n" if trailing_newline else "")
    plan, out = render(text)
    assert checks.line_atomic(text, out) == []
    assert checks.subsequence(text, out) == []
    assert len(out) <= len(text)
    severe = [ln for ln in lines if " WARN " in ln or " ERROR " in ln]
    assert all(ln in out.splitlines() for ln in severe)

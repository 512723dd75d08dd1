"""The structural stage on real program output (tests/fixtures/programs, written by
bench/corpus/make_corpus.py): facts survive, structural checks pass, omissions are marked and retrievable."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whorf import structure
from whorf.config import DEFAULT_BUDGET_TOKENS
from whorf.domain import route
from whorf.store import Store, handle_of
from whorf.structure import checks, jsondoc, markers
from whorf.structure.budget import CHARS_PER_TOKEN

from conftest import FIXTURES

PROGRAMS = FIXTURES / "programs"
CASES = sorted(p.stem for p in PROGRAMS.glob("*.json"))


DEFAULT_CHARS = DEFAULT_BUDGET_TOKENS * CHARS_PER_TOKEN


def render(text: str, budget_chars: int | None = DEFAULT_CHARS):
    plan = structure.plan(text, route(text), budget_chars)
    return plan, plan.render(text)


@pytest.mark.parametrize("name", CASES)
def test_real_program_output_keeps_its_facts_and_shape(name):
    meta = json.loads((PROGRAMS / f"{name}.json").read_text())
    text = (PROGRAMS / f"{name}.txt").read_text()
    plan, out = render(text)
    shape = structure.shape(text, route(text))
    if shape != "prose":
        assert not [p for p in plan.pieces if p.kind == "words"], "structured output must not reach the word model"
    assert [f for f in meta["facts"] if f not in out] == []
    extra = [] if shape in ("json", "prose") else ["subsequence", "verbatim"]
    assert {k: v for k, v in checks.run(meta["checks"] + extra, text, out).items() if v} == {}
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
    if structure.shape(text, route(text)) != "json":  # line-shaped: kept lines + marker counts = input lines
        assert kept_units + sum(o.count for o in plan.omissions) == len(text.splitlines())


def test_json_records_are_reencoded_losslessly_every_job_kept():
    text = (PROGRAMS / "json_jobs.txt").read_text()
    _, out = render(text)
    doc = json.loads(out)
    assert doc["jobs"]["whorf_columns"][:2] == ["id", "job"]  # columnar: keys once, one array per row
    assert jsondoc.decode(doc) == json.loads(text)  # every job, every value
    assert len(out) < 0.5 * len(text)


def test_over_the_budget_the_failed_job_survives_and_markers_count_the_rest():
    text = (PROGRAMS / "json_jobs.txt").read_text()
    _, out = render(text, budget_chars=600)
    rows = jsondoc.decode(json.loads(out))["jobs"]
    kept = [j for j in rows if markers.JSON_KEY not in j]
    assert any(j["status"] == "failure" and j["job"] == "lint-shard-23" for j in kept)
    assert sum(m[markers.JSON_KEY] for m in rows if markers.JSON_KEY in m) + len(kept) == 36
    assert checks.json_shape(text, out) == []


def test_table_keeps_header_and_whole_rows_and_the_odd_row():
    text = (PROGRAMS / "sqlite_column.txt").read_text()
    _, out = render(text)
    lines = out.splitlines()
    assert lines[0] == text.splitlines()[0] and lines[1] == text.splitlines()[1]
    odd = next(ln for ln in text.splitlines() if "nightly-export-041" in ln)
    assert odd in lines


def test_every_test_name_stays_under_the_budget_and_passing_lines_go_first_over_it():
    text = (PROGRAMS / "pytest_verbose.txt").read_text()
    _, out = render(text)
    assert out == text  # 41 distinct tests: entities, not repetition
    _, small = render(text, budget_chars=len(text) // 2)
    assert small.count("PASSED") < text.count("PASSED")
    assert "FAILED" in small and "1 failed, 40 passed" in small and "assert 0.3 == 0.31" in small
    assert checks.verbatim(text, small) == []


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
    doc = jsondoc.decode(json.loads(out))
    assert any(i.get("status") == "failed" for i in doc["items"])
    assert len(out) <= len(text)
    names = {i["name"] for i in items}
    assert names <= {i["name"] for i in doc["items"] if markers.JSON_KEY not in i}  # a name is an entity


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


def test_a_test_report_of_many_alike_failures_is_read_as_diagnostics(tmp_path):
    """Thirty parametrized failures look like a log to the router; the one different failure must survive."""
    import subprocess
    import sys

    (tmp_path / "test_p.py").write_text(
        "import pytest\n\n@pytest.mark.parametrize('x', range(30))\ndef test_param(x):\n    r = {'ok': False, 'x': x}\n"
        "    assert r['ok']\n\ndef test_other():\n    assert 1 + 1 == 3\n\ndef test_pass():\n    assert True\n")
    text = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_p.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120).stdout
    assert structure.shape(text, route(text)) == "diagnostics"
    out = structure.plan(text, route(text), 1200).render(text)
    failed = [ln for ln in text.splitlines() if ln.startswith("FAILED ")]
    assert len(failed) == 31 and all(ln in out.splitlines() for ln in failed)
    assert "E       assert (1 + 1) == 3" in out.splitlines()


def test_a_python_module_with_long_docstrings_is_code_kept_whole():
    import heapq
    import inspect

    source = inspect.getsource(heapq)
    assert structure.shape(source, route(source)) == "code"
    assert structure.plan(source, route(source), 2000).render(source) == source


def test_processes_that_differ_by_pid_are_entities_not_repetition():
    """ps rows of thirty ``sleep`` processes: each PID names its row's subject, so no row is taken for a
    repetition of another (an agent asked for the pid of one of them must find it)."""
    import subprocess

    ps = "USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n" + "".join(
        f"root     {18144 + k}  0.0  0.0   2920  {1800 + k % 3 * 8}  ?        SN   05:36   0:00 sleep {86000 + 13 * k}\n"
        for k in range(32))
    assert structure.plan(ps, "table", 32_000).render(ps) == ps
    sleepers = [subprocess.Popen(["sleep", str(300 + k)]) for k in range(32)]
    try:
        real = subprocess.run(["ps", "u", "-C", "sleep"], capture_output=True, text=True).stdout
    finally:
        for p in sleepers:
            p.kill()
    assert structure.plan(real, "table", 32_000).render(real) == real


@pytest.mark.parametrize("name", CASES)
def test_every_omission_says_why(name):
    """Each marker of a real output names its reason (the dashboard and ``--json`` show it): repetition,
    budget, query or blob, under a tight budget with and without a query, JSON arrays included."""
    text = (PROGRAMS / f"{name}.txt").read_text()
    for query in (None, "where is the error?"):
        plan = structure.plan(text, route(text), 1500, query)
        assert {o.reason for o in plan.omissions} <= {"repetition", "budget", "query", "blob"}, \
            [(o.unit, o.count, o.reason) for o in plan.omissions]

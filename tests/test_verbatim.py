"""The verbatim contract: outside prose every output line is an input line byte for byte or a marker, JSON is
re-encoded losslessly, distinct names are entities (never repetition), code stays whole, and only the
budget drops whole units."""

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whorf import structure
from whorf.config import CompressOptions
from whorf.domain import route
from whorf.structure import checks, code, jsondoc, markers, prose, repeat

NAME = st.text("abcdefghijklmnopqrstuvwxyz_-", min_size=3, max_size=12).filter(lambda s: s[0].isalpha())


def render(text, budget_chars=32_000, domain=None):
    plan = structure.plan(text, domain or route(text), budget_chars)
    return plan, plan.render(text)


def assert_line_contract(text, plan, out):
    assert checks.verbatim(text, out) == []
    assert checks.line_atomic(text, out) == []
    kept = [ln for ln in out.splitlines() if not markers.MARKER_LINE.match(ln)]
    assert len(kept) + sum(o.count for o in plan.omissions) == len(text.splitlines())
    for o in plan.omissions:
        assert text[o.start:o.start + len(o.original)] == o.original and o.handle in out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(NAME, st.integers(0, 10**7)), min_size=30, max_size=150, unique_by=lambda t: t[0]))
def test_a_listing_keeps_every_name_under_the_budget(entries):
    rows = [f"-rw-r--r-- 1 root root {size:>9} Jan  1 10:00 {name}.py" for name, size in entries]
    text = f"total {len(rows)}\n" + "\n".join(rows) + "\n"
    plan, out = render(text)
    assert_line_contract(text, plan, out)
    assert all(f"{name}.py" in out for name, _ in entries)  # rows that differ by their name are entities


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["INFO", "INFO", "DEBUG", "WARN", "ERROR"]), NAME, st.integers(0, 999)),
                min_size=8, max_size=200), st.integers(200, 4000))
def test_logs_keep_the_contract_and_every_severe_line_at_any_budget(entries, budget):
    lines = [f"2024-05-01 12:{i // 60 % 60:02d}:{i % 60:02d} {lvl} worker {word} took {n}ms"
             for i, (lvl, word, n) in enumerate(entries)]
    text = "\n".join(lines) + "\n"
    plan, out = render(text, budget_chars=budget, domain="log")
    assert_line_contract(text, plan, out)
    assert all(ln in out.splitlines() for ln in lines if " WARN " in ln or " ERROR " in ln)
    if budget >= len(text):  # under the budget every distinct message is there
        assert {w for _, w, _ in entries} <= {ln.split()[4] for ln in out.splitlines() if not markers.MARKER_LINE.match(ln)}


def test_true_repetition_collapses_and_the_marker_says_what_varied():
    lines = [f"2024-05-01 12:00:{i:02d} INFO GET /health 200 {i % 3 + 1}ms" for i in range(40)]
    text = "\n".join(lines) + "\n"
    plan, out = render(text, domain="log")
    assert len(out.splitlines()) <= 4
    marker = next(ln for ln in out.splitlines() if markers.MARKER_LINE.match(ln))
    assert "varying 12:00:01..38" in marker and "1..3ms" in marker  # shared fields and units said once


def test_a_rare_status_among_repeats_stays():
    lines = [f"10.0.0.{i % 7} - - [01/May/2024 12:00:{i:02d}] \"GET /api/items HTTP/1.1\" {404 if i == 31 else 200} {500 + i}"
             for i in range(50)]
    text = "\n".join(lines) + "\n"
    _, out = render(text, domain="log")
    assert lines[31] in out.splitlines()


def test_variable_tokens_are_numbers_times_ids_and_sizes_never_names():
    for token in ["42", "3.5", "12:04:33", "2017-05-16", "12ms", "4.2K", "99%", "0x1f", "a1b2c3d4e5", "blk_-1608",
                  "req-8f3a1c9d", "10.0.0.1:8080", "3f2b7c9e-1a4d-4e8b-9c0f-2d6e5a7b8c91"]:
        assert repeat.variable(token), token
    for token in ["module_07.py", "nightly-export-041", "requests", "v1.2.3", "libssl.so.3", "test_parse_00"]:
        assert not repeat.variable(token), token


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "name": NAME, "version": st.from_regex(r"\d{1,2}\.\d{1,2}(\.\d{1,3})?", fullmatch=True),
    "size": st.floats(allow_nan=False, allow_infinity=False) | st.integers(), "note": st.none() | st.text(max_size=20),
}), min_size=3, max_size=60, unique_by=lambda d: d["name"]), st.booleans())
def test_json_records_round_trip_losslessly(items, indent):
    text = json.dumps(items, indent=2 if indent else None)
    plan, out = render(text)
    assert not plan.omissions  # distinct names: nothing to drop under the budget
    # decoded, the output is the input, numbers as their own text (never re-printed)
    as_text = lambda s: json.loads(s, parse_float=str, parse_int=str)  # noqa: E731
    assert jsondoc.decode(as_text(out)) == as_text(text)
    assert len(out) <= len(text)


def test_columnar_form_is_documented_and_decodes():
    text = json.dumps([{"name": "pip", "version": "24.0"}, {"name": "six", "version": "1.16.0"},
                       {"name": "idna", "version": "3.7", "editable_project_location": "/src/idna"},
                       {"name": "attrs", "version": "26.1.0"}], indent=2)
    _, out = render(text)
    doc = json.loads(out)
    assert doc["whorf_columns"] == ["name", "version"] and doc["rows"][0] == ["pip", "24.0"]
    assert doc["rows"][2] == {"name": "idna", "version": "3.7", "editable_project_location": "/src/idna"}
    assert jsondoc.decode(doc) == json.loads(text)


SOURCE = '''import os


def load(path):
    """Read a file."""
    with open(path) as f:
        return f.read()


class Config:
    def __init__(self, root):
        self.root = os.path.abspath(root)
'''


@pytest.mark.parametrize("layout", ["plain", "cat -n", "arrow", "tab"])
def test_code_is_kept_whole_with_its_line_numbers(layout):
    lines = SOURCE.splitlines()
    fmt = {"plain": "{line}", "cat -n": "{n:>6}\t{line}", "arrow": "{n:>6}→{line}", "tab": "{n}\t{line}"}[layout]
    text = "\n".join(fmt.format(n=i + 1, line=ln) for i, ln in enumerate(lines * 8)) + "\n"
    plan, out = render(text, budget_chars=200)  # whatever the budget
    assert out == text
    assert not [p for p in plan.pieces if p.kind == "words"]
    assert structure.shape(text, route(text)) == "code"


def test_licence_header_and_blob_fold_behind_markers_the_code_stays():
    licence = ["# Copyright 2024 The Authors.", "#", "# Licensed under the Apache License, Version 2.0 (the \"License\");",
               "# you may not use this file except in compliance with the License.", "# You may obtain a copy at",
               "#", "#     http://www.apache.org/licenses/LICENSE-2.0", "#", "# Unless required by applicable law..."]
    blob = "DATA = '" + "QUJD" * 200 + "'"
    text = "\n".join(licence + [""] + SOURCE.splitlines() + [blob, "print(DATA)"]) + "\n"
    plan, out = render(text, domain="code")
    assert "Copyright" not in out and "QUJDQUJD" not in out
    assert SOURCE.strip() in out and "print(DATA)" in out
    assert_line_contract(text, plan, out)
    assert {o.unit for o in plan.omissions} == {"line"} and len(plan.omissions) == 2


README = """# fastcsv

A small library that reads CSV files quickly and keeps memory low, even for files of many gigabytes.

## Install

```bash
pip install fastcsv==2.1.0
```

Use it like this; the reader yields one row at a time so nothing is loaded whole into memory at once.

```python
from fastcsv import Reader
for row in Reader("big.csv", delimiter=";"):
    print(row["id"])
```

| option | default |
|---|---|
| delimiter | , |

- requests>=2.31
- src/fastcsv/reader.py
- Rows are streamed from disk in chunks and never held in memory all at once by the reader.
"""


def test_markdown_sends_only_its_sentences_to_the_word_model():
    plan = prose.plan(README)
    words = "".join(README[p.start:p.end] for p in plan.pieces if p.kind == "words")
    kept = "".join(README[p.start:p.end] for p in plan.pieces if p.kind == "keep")
    for block in checks.fenced_blocks(README):
        assert block in kept
    assert "| delimiter | , |" in kept and "- requests>=2.31" in kept and "# fastcsv" in kept
    assert "reads CSV files quickly" in words and "Rows are streamed from disk" in words
    assert "pip install" not in words and "Reader(" not in words


def test_a_readme_through_the_compressor_keeps_its_code_blocks_whole(tiny_compressor):
    out = tiny_compressor.compress(README, CompressOptions(store=False, threshold=0.9, override=False)).text
    assert checks.fences(README, out) == []
    assert "- src/fastcsv/reader.py" in out.splitlines()
    assert len(out) < len(README)  # the sentences were the word model's


class Counting:
    """The real runtime, counting its calls."""

    def __init__(self, inner):
        self.inner, self.calls, self.name = inner, 0, inner.name

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.inner(*args, **kwargs)


@pytest.mark.parametrize("text", [SOURCE * 3, "\n".join(f"src/pkg/mod_{c}.py" for c in "abcdefghijklmnopqrstuvwxyzABCDEF"),
                                  json.dumps([{"name": c, "v": 1} for c in "abcdef"]),
                                  "\n".join(f"{i:07x}{'0' * 33} Fix the thing number {c}" for i, c in enumerate("abcdefghij"))])
def test_an_output_the_structure_decides_makes_no_model_call(tiny_compressor, text):
    counting = Counting(tiny_compressor.scorer.runtime)
    runtime, tiny_compressor.scorer.runtime = tiny_compressor.scorer.runtime, counting
    try:
        result = tiny_compressor.compress(text, CompressOptions(store=False))
    finally:
        tiny_compressor.scorer.runtime = runtime
    assert counting.calls == 0
    assert result.stats.words == result.stats.words_kept or result.markers


def test_logs_prefixed_by_a_file_name_are_logs_not_search_results():
    lines = []
    for i in range(60):
        status = 404 if i == 17 else 202 if i == 40 else 200
        lines.append(f"nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:{i:02d}.008 25746 INFO "
                     f"nova.osapi_compute.wsgi.server [req-{i:08x}-91c5] 10.11.10.1 \"GET /v2/servers/detail HTTP/1.1\" "
                     f"status: {status} len: {1800 + i} time: 0.{i:03d}")
    text = "\n".join(lines) + "\n"
    assert structure.shape(text, route(text)) == "log"
    plan, out = render(text)
    assert lines[17] in out.splitlines() and lines[40] in out.splitlines()
    assert_line_contract(text, plan, out)
    assert len(out) < 0.3 * len(text)


def test_over_the_budget_a_path_listing_says_which_directory_went():
    paths = [f"src/whorf/{d}/{name}.py" for d in ("structure", "proxy") for name in
             [f"{a}{b}" for a in "abcdefgh" for b in "xyzw"]]
    text = "\n".join(paths) + "\n"
    plan, out = render(text, budget_chars=600)
    assert_line_contract(text, plan, out)
    assert len(out) <= 600 + 120
    assert any("under src/whorf/" in ln for ln in out.splitlines() if markers.MARKER_LINE.match(ln))


def test_over_the_budget_old_commits_go_whole_and_new_ones_stay():
    commits = []
    for i in range(30):
        commits += [f"commit {i:040x}", "Author: A <a@e>", f"Date:   Mon Nov {i % 28 + 1} 10:00:00 2026 +0000", "",
                    f"    Change number {i}: adjust the {chr(97 + i % 26)} handler", ""]
    text = "\n".join(commits) + "\n"
    plan, out = render(text)
    assert out == text  # under the budget: every commit
    plan, out = render(text, budget_chars=1500)
    assert_line_contract(text, plan, out)
    assert f"commit {0:040x}" in out and f"commit {29:040x}" not in out
    kept_hashes = [ln for ln in out.splitlines() if ln.startswith("commit ")]
    for h in kept_hashes:  # a kept commit is whole: its subject is there too
        i = int(h.split()[1], 16)
        assert f"    Change number {i}: adjust the {chr(97 + i % 26)} handler" in out


def test_budget_is_validated():
    with pytest.raises(ValueError, match="budget_tokens"):
        CompressOptions(budget_tokens=0)
    assert CompressOptions(budget_tokens=None).budget_tokens is None


def test_every_marker_line_matches_the_documented_format():
    text = "\n".join(f"2024-01-01 10:00:{i % 60:02d} INFO tick {i}" for i in range(100)) + "\n"
    _, out = render(text, domain="log")
    for ln in out.splitlines():
        if "omitted" in ln:
            assert markers.MARKER_LINE.match(ln), ln
            assert re.search(r"whorf:[0-9a-f]{8}", ln)

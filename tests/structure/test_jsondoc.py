"""The corpus rows the router sends to `structure/jsondoc.py` (shape `json`): facts kept, checks passed."""

import pytest

from corpus import check, rows

CASES = rows("json")


def test_the_router_sends_some_corpus_rows_here():
    assert CASES


@pytest.mark.parametrize("name,text,case", CASES, ids=[c[0] for c in CASES])
def test_corpus_row(name, text, case):
    check(text, case)


def test_a_json_document_over_4_mb_is_still_json():
    """No size cap of its own: a 5 MB array of records is decided as JSON (it went to the line-level router and
    came out nearly whole before), valid JSON with every row that differs by its name kept or behind a marker."""
    import json

    from whorf.doc import Doc
    from whorf.router import route
    from whorf.structure import jsondoc

    items = [{"path": f"/usr/lib/python3/site-packages/pkg{i % 97}/module_{i}.py", "size": 1000 + i % 13,
              "mode": "0o100644", "mtime": 1700000000 + i} for i in range(40_000)]
    text = json.dumps(items, indent=2)
    assert len(text) > 5_000_000
    doc = Doc(text)
    assert route(doc).shape == "json"
    out = jsondoc.plan(doc, budget_chars=200_000)
    body = "".join(p.text if p.kind == "replace" else text[p.start:p.end] for p in out.pieces)
    value = json.loads(body)
    rows = value["rows"]
    assert value["whorf_columns"] == ["path", "size", "mode", "mtime"]
    kept = [r for r in rows if isinstance(r, list)]
    assert kept and all(r[0] == items[int(r[0].rsplit("_", 1)[1][:-3])]["path"] for r in kept)
    assert sum(o.count for o in out.omissions) + len(kept) == len(items)


def test_outliers_go_last_for_the_budget_but_the_budget_holds():
    """Items unlike the rest (a failure among successes) outlast the plain items over the budget, and an array
    whose outliers alone are over the budget is cut to it (they were never dropped: 4x over the budget)."""
    import json

    from whorf.structure import jsondoc

    items = [{"job": f"build-{i}", "status": "failed" if i % 25 == 7 else "ok", "ms": 1000 + i % 7}
             for i in range(3000)]  # 120 failures: rare (under 1 in 20)
    text = json.dumps(items, indent=1)
    budget = 4000
    out = jsondoc.plan(text, budget_chars=budget)
    body = "".join(p.text if p.kind == "replace" else text[p.start:p.end] for p in out.pieces)
    assert len(body) <= budget * 1.1
    rows = [r for r in json.loads(body)["rows"] if isinstance(r, list)]
    failed = [r for r in rows if r[1] == "failed"]
    plain = [r for r in rows if r not in failed and r[0] not in ("build-0", "build-2999")]
    assert len(failed) >= 20 and plain == []
    whole = jsondoc.plan(text)  # no budget: every failure stays, the ok items repeat one another
    rows = [r for r in json.loads(whole.pieces[0].text)["rows"] if isinstance(r, list)]
    assert sum(r[1] == "failed" for r in rows) == 120


def test_ndjson_outlier_notes_only_for_lines_the_budget_kept():
    import json

    from whorf.doc import Doc
    from whorf.structure import jsondoc

    rows = [json.dumps({"job": f"build-{i}", "status": "failed" if i % 25 == 7 else "ok"}) for i in range(3000)]
    text = "\n".join(rows) + "\n"
    plan = jsondoc.plan(Doc(text), budget_chars=3000)
    omitted = set()
    for o in plan.omissions:
        omitted.update(range(o.line, o.line + o.count))
    outliers = [n for n in plan.notes if n.action == "outlier"]
    assert outliers and not [n for n in outliers if n.line in omitted]

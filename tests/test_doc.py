"""The document read once: what the router and the structure modules read of a text is computed once."""

from __future__ import annotations

import json

from hypothesis import given, strategies as st

from whorf import domain, router, structure
from whorf.doc import Doc, split_lines
from whorf.segment import segment


def test_json_is_parsed_once_for_routing_and_planning(monkeypatch):
    calls = []
    real = domain.json_start
    monkeypatch.setattr(domain, "json_start", lambda text: calls.append(len(text)) or real(text))
    text = json.dumps([{"id": i, "name": f"job-{i}", "status": "ok"} for i in range(50)], indent=2)
    doc = Doc(text)
    routed = router.route(doc)
    plan = structure.plan_shape(doc, routed.shape, 400)
    assert routed == router.Route("json", "json") and plan.omissions
    assert len(calls) == 1  # the router's parse, reused by the JSON module


def test_the_lines_are_split_once_and_shared():
    doc = Doc("a\nb\r\nc")
    assert doc.lines is doc.lines
    assert [(ln.text, ln.ending, ln.stop) for ln in doc.lines] == [("a", "\n", 2), ("b", "\r\n", 5), ("c", "", 6)]


@given(st.text(alphabet=st.sampled_from("ab \t\r\n{}[]\":,1"), max_size=200))
def test_one_line_type_for_segmentation_and_structure(text):
    """Segmentation and the line-shaped modules split a text into the same lines, and the lines cover it."""
    lines = split_lines(text)
    assert list(segment(text).lines) == lines
    assert "".join(text[ln.start:ln.stop] for ln in lines) == text
    assert router.route(text) == router.route(Doc(text))  # a string and its document route alike

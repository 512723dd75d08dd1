"""Diffs: every file header, ``@@`` line and ``+``/``-`` line survives verbatim, and under the budget so
does every context line (the agent applies edits against them). Over the budget, unchanged context lines
go first, those farthest from a change before those next to one."""

from __future__ import annotations

from whorf.doc import Doc
from whorf.structure import budget as B
from whorf.structure import lines as L
from whorf.structure.plan import Piece, Plan


def plan(source: str | Doc, budget_chars: int | None = None, query: str | None = None) -> Plan:
    doc = Doc.of(source)
    text, lines = doc.text, doc.lines
    if budget_chars is None or len(text) <= budget_chars:
        return Plan("diff", [Piece(0, len(text), "keep")] if text else [])
    context = [_is_context(ln.text) for ln in lines]
    priority = []
    for i, c in enumerate(context):
        near = (i > 0 and not context[i - 1]) or (i + 1 < len(lines) and not context[i + 1])
        priority.append(B.MUST if not c else 1 if near else 0)
    return L.decide(text, lines, [True] * len(lines), priority, "diff", budget_chars, query=query)


def _is_context(line: str) -> bool:
    """An unchanged line inside a hunk (starts with one space), not a header, change or hunk line."""
    return line.startswith(" ") or line == ""

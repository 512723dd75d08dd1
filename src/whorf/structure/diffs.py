"""Diffs: every file header, ``@@`` line and ``+``/``-`` line survives verbatim; only unchanged context
lines may go, and the context line next to a change stays."""

from __future__ import annotations

from whorf.structure import lines as L
from whorf.structure.plan import Piece, Plan

MIN_LINES = 12


def plan(text: str) -> Plan:
    lines = L.split(text)
    if len(lines) < MIN_LINES:
        return Plan("diff", [Piece(0, len(text), "keep")] if text else [])
    context = [_is_context(ln.text, i, lines) for i, ln in enumerate(lines)]
    keep = [not c for c in context]
    for i, c in enumerate(context):
        if c and ((i > 0 and not context[i - 1]) or (i + 1 < len(lines) and not context[i + 1])):
            keep[i] = True  # next to a change, a header or a hunk line
    return L.merge(L.collapse(text, lines, keep, "diff", lambda run: ("line", "context", None), min_run=2))


def _is_context(line: str, i: int, lines) -> bool:
    """An unchanged line inside a hunk (starts with one space), not a header, change or hunk line."""
    return line.startswith(" ") or line == ""

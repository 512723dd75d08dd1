"""Search results (``path:line:content``): whole lines only, never cut or fused. Long result lists keep the
first matches of every file; the rest of a file's matches go behind a marker naming how many."""

from __future__ import annotations

import re

from whorf.structure import lines as L
from whorf.structure.plan import Piece, Plan

MIN_LINES = 30
PER_FILE = 3
_RESULT = re.compile(r"^([^\s:]+)[:-](\d+)[:-]")


def plan(text: str) -> Plan:
    lines = L.split(text)
    if len(lines) < MIN_LINES:
        return Plan("search", [Piece(0, len(text), "keep")] if text else [])
    seen: dict[str, int] = {}
    keep = []
    for ln in lines:
        m = _RESULT.match(ln.text)
        if not m:
            keep.append(True)
            continue
        seen[m.group(1)] = seen.get(m.group(1), 0) + 1
        keep.append(seen[m.group(1)] <= PER_FILE)
    return L.merge(L.collapse(text, lines, keep, "search", lambda run: ("match", "more", None)))

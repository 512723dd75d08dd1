"""Search results (``path:line:content``, ``grep -n``, ``git grep``, ``rg``): whole lines only, never cut or
fused, and every match is an entity (the agent opens the file at that line). Under the budget all stay;
over it a file's later matches go first (its first ``PER_FILE`` stay longest), each run behind a marker
that names the file. Lines that are logs prefixed by a file name are routed to the log module instead."""

from __future__ import annotations

import re

from whorf.doc import Doc
from whorf.structure import budget as B
from whorf.structure import lines as L
from whorf.structure.plan import Piece, Plan

PER_FILE = 3
_RESULT = re.compile(r"^([^\s:]+)[:-](\d+)[:-]")


def plan(source: str | Doc, budget_chars: int | None = None, query: str | None = None) -> Plan:
    doc = Doc.of(source)
    text, lines = doc.text, doc.lines
    if budget_chars is None or len(text) <= budget_chars:
        return Plan("search", [Piece(0, len(text), "keep")] if text else [])
    seen: dict[str, int] = {}
    files: list[str | None] = []
    priority = []
    for ln in lines:
        m = _RESULT.match(ln.text)
        if not m:
            files.append(None)
            priority.append(B.MUST)
            continue
        seen[m.group(1)] = seen.get(m.group(1), 0) + 1
        files.append(m.group(1))
        priority.append(2 if seen[m.group(1)] <= PER_FILE else 1)

    def where(run):
        names = list(dict.fromkeys(files[i] for i in run if files[i]))
        return f"in {names[0]}" if len(names) == 1 else f"in {len(names)} files"

    return L.decide(text, lines, [True] * len(lines), priority, "search", budget_chars, unit="match", where=where, query=query)

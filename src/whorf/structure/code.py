"""Source code (a file read with ``cat``, ``cat -n``, or an agent's ``N→``/``N\\t`` numbered layouts): kept
whole, line numbers included, whatever the budget. The agent edits from what it reads, so no word and no
line of code is ever dropped. What may go behind a marker is a long run that carries no code meaning: a
licence header (a leading comment block that names a licence), base64 or minified blobs (one long line of
no spaces), and long literal data tables (many consecutive lines of only numbers and string literals).
"""

from __future__ import annotations

import re

from whorf.structure import lines as L
from whorf.structure.plan import Note, Piece, Plan

NUMBERED = re.compile(r"^\s*\d+(?:→|\t|: |\| )")  # cat -n, Claude Code's Read (N→), N: and N| layouts
_COMMENT = re.compile(r"^\s*(#|//|/\*|\*|--|;;|\"\"\"|''')")
_LICENCE = re.compile(r"licen[cs]e|copyright|\bSPDX\b|warrant", re.IGNORECASE)
_BLOB = re.compile(r"^[A-Za-z0-9+/=_\-.,;:{}()\[\]\"'<>$!?*&|^%~`@#\\]{400,}$")
_DATA = re.compile(r"^[\s\[\]{}(),]*((-?\d[\d_.eE+-]*|0x[0-9a-fA-F]+|\"[^\"]*\"|'[^']*')[\s,]*)+[\]}),]*\s*$")
MIN_LICENCE = 8  # lines of a leading comment block before it may fold
MIN_DATA = 30  # consecutive literal-data lines before they may fold


def numbered(lines: list[str]) -> bool:
    """Most lines carry a line-number prefix (``cat -n``, ``N→``)."""
    content = [ln for ln in lines if ln.strip()]
    return bool(content) and sum(bool(NUMBERED.match(ln)) for ln in content) >= 0.8 * len(content)


def body(line: str) -> str:
    """A line without its line-number prefix."""
    m = NUMBERED.match(line)
    return line[m.end():] if m else line


def plan(text: str, budget_chars: int | None = None) -> Plan:
    """Every line kept; only licence headers, blobs and long data tables fold behind markers."""
    lines = L.split(text)
    keep = [True] * len(lines)
    notes: list[Note] = []
    kinds = [""] * len(lines)
    for run, kind in _foldable([body(ln.text) for ln in lines]):
        for i in run:
            keep[i] = False
            kinds[i] = kind
        notes.append(Note(run[0], "collapsed", f"{kind}: {len(run)} line(s)"))
    if all(keep):
        return Plan("code", [Piece(0, len(text), "keep")] if text else [])

    def describe(run):
        return "line", kinds[run[0]] or "folded", None

    return L.merge(L.collapse(text, lines, keep, "code", describe, notes))


def _foldable(bodies: list[str]) -> list[tuple[list[int], str]]:
    out: list[tuple[list[int], str]] = []
    start = next((i for i, b in enumerate(bodies) if b.strip() and not b.startswith("#!")), len(bodies))
    j = start
    while j < len(bodies) and (_COMMENT.match(bodies[j]) or not bodies[j].strip() and j > start):
        j += 1
    header = list(range(start, j))
    if len(header) >= MIN_LICENCE and any(_LICENCE.search(bodies[i]) for i in header):
        while header and not bodies[header[-1]].strip():
            header.pop()
        out.append((header, "licence-header"))
    for i, b in enumerate(bodies):
        if _BLOB.match(b.strip()) and " " not in b.strip():
            out.append(([i], "blob"))
    run: list[int] = []
    for i, b in enumerate(bodies + [""]):
        if i < len(bodies) and b.strip() and _DATA.match(b):
            run.append(i)
            continue
        if len(run) >= MIN_DATA:
            out.append((run[1:-1], "data-table"))  # the first and last rows stay as examples
        run = []
    return sorted(out)

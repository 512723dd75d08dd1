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
_RUN = re.compile(r"\S{400,}")  # base64, hex or minified code: one run of no spaces
_DATA = re.compile(r"^[\s\[\]{}(),]*((-?\d[\d_.eE+-]*|0x[0-9a-fA-F]+|\"[^\"]*\"|'[^']*')[\s,]*)+[\]}),]*\s*$")
MIN_LICENCE = 8  # lines of a leading comment block before it may fold
MIN_DATA = 30  # consecutive literal-data lines before they may fold


_CODE_LINE = re.compile(
    r"^\s*(def |class |import |from \S+ import|fn |pub |let |const |var |function |return\b|#include|package |"
    r"func |public |private |protected |use |impl\b|struct |enum |match |if\b.*[:{]$|for\b.*[:{]$|while\b.*[:{]$|"
    r"else\b|elif\b|try\b|except\b|catch\b|finally\b|raise |throw |yield\b|async |await |}|@\w|#\[|//|/\*)"
    r"|[;{}:,(\[]\s*$|\)\s*(->.*)?[:{]?\s*$"
)
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def detect(lines: list[str]) -> bool:
    """A source file: many lines look like code and most are code-like or indented (a README's fenced
    blocks do not count: the document is prose around them)."""
    content, fenced = [], False
    for ln in lines:
        if _FENCE.match(ln):
            fenced = not fenced
            continue
        if ln.strip() and not fenced:
            content.append(body(ln))
    if len(content) < 5:
        return False
    codeish = sum(bool(_CODE_LINE.search(b)) for b in content)
    indented = sum(b[:1] in (" ", "\t") and not _CODE_LINE.search(b) for b in content)
    return codeish >= 0.25 * len(content) and codeish + indented >= 0.6 * len(content)


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
        run = _RUN.search(b)
        if run and len(run.group()) >= 0.8 * len(b.strip()):
            out.append(([i], "blob"))
    rows: list[int] = []
    for i, b in enumerate(bodies + [""]):
        if i < len(bodies) and b.strip() and _DATA.match(b):
            rows.append(i)
            continue
        if len(rows) >= MIN_DATA:
            out.append((rows[1:-1], "data-table"))  # the first and last rows stay as examples
        rows = []
    return sorted(out)

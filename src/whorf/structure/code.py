"""Source code (a file read with ``cat``, ``cat -n``, or an agent's ``N→``/``N\\t`` numbered layouts): kept
whole, line numbers included, whatever the budget. The agent edits from what it reads, so no word and no
line of code is ever dropped. What may go behind a marker is a long run that carries no code meaning: a
licence header (a leading comment block that names a licence), base64 or minified blobs (one long line of
no spaces), and long literal data tables (many consecutive lines of only numbers and string literals).
"""

from __future__ import annotations

import re

from whorf.doc import Doc
from whorf.structure import lines as L
from whorf.structure import relevance
from whorf.structure.plan import Note, Piece, Plan
from whorf.lexicon import FENCE, NUMBERED

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
_MARKDOWN = re.compile(r"^\s*([-*+] |\d+\. |#{2,6} |\*\*|> )")  # list items, headings, bold, quotes


def detect(lines: list[str]) -> bool:
    """A source file: many lines look like code and most are code-like or indented (a README's fenced
    blocks do not count: the document is prose around them)."""
    content, fenced = [], False
    for ln in lines:
        if FENCE.match(ln):
            fenced = not fenced
            continue
        if ln.strip() and not fenced:
            content.append(body(ln))
    if len(content) < 5 or sum(bool(_MARKDOWN.match(b)) for b in content) >= 0.15 * len(content):
        return False  # a Markdown document (its nested lists end in colons and are indented)
    codeish = sum(bool(_CODE_LINE.search(b)) for b in content)
    indented = sum(b[:1] in (" ", "\t") and not _CODE_LINE.search(b) for b in content)
    return codeish >= 0.25 * len(content) and codeish + indented >= 0.6 * len(content)


_PY_DEF = re.compile(r"^(def |class |import |from \S+ import |async def )")
MAX_PARSE = 1_000_000  # characters a Python source may have to be checked by parsing it


def python_source(text: str) -> bool:
    """A whole Python module (``cat file.py``): Python's own parser accepts it and it defines or imports
    things. Catches modules whose docstrings and string constants make them look like prose."""
    import ast

    if len(text) > MAX_PARSE or sum(bool(_PY_DEF.match(ln)) for ln in text.splitlines()) < 3:
        return False
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def numbered(lines: list[str]) -> bool:
    """Most lines carry a line-number prefix (``cat -n``, ``N→``)."""
    content = [ln for ln in lines if ln.strip()]
    return bool(content) and sum(bool(NUMBERED.match(ln)) for ln in content) >= 0.8 * len(content)


def body(line: str) -> str:
    """A line without its line-number prefix."""
    m = NUMBERED.match(line)
    return line[m.end():] if m else line


def plan(source: str | Doc, budget_chars: int | None = None, query: str | None = None) -> Plan:
    """Every line kept; only licence headers, blobs and long data tables fold behind markers. With a query
    and over the budget, the bodies of functions and classes that do not mention the query's terms fold
    too (largest first, the signature line stays, the marker names the line range)."""
    doc = Doc.of(source)
    text, lines = doc.text, doc.lines
    keep = [True] * len(lines)
    notes: list[Note] = []
    kinds = [""] * len(lines)
    bodies = [body(ln.text) for ln in lines]
    folds = _foldable(bodies)
    unrelated, evidence = [], ()
    if query and budget_chars is not None and len(text) > budget_chars:
        unrelated, evidence = _unrelated_bodies(lines, bodies, query, len(text) - budget_chars)
    folds += unrelated
    for run, kind in folds:
        for i in run:
            keep[i] = False
            kinds[i] = kind
        notes.append(Note(run[0], "collapsed", f"{kind}: {len(run)} line(s)"))
    if all(keep):
        return Plan("code", [Piece(0, len(text), "keep")] if text else [], matched=evidence)

    def describe(run):
        if kinds[run[0]] == "body":
            return "line", "body", None, f"lines {run[0] + 1}-{run[-1] + 1} folded"
        return "line", kinds[run[0]] or "folded", None

    out = L.merge(L.collapse(text, lines, keep, "code", describe, notes))
    out.matched = evidence
    return out


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


_BLOCK = re.compile(r"^(\s*)(async\s+def|def|class|fn|pub\s+fn|func|function)\b")


def _unrelated_bodies(lines, bodies: list[str], query: str, excess: int) -> tuple[list, tuple[str, ...]]:
    """Bodies of indentation-delimited blocks (Python-like: a class the query matches keeps its signature
    and the methods that match, its other methods fold) that the query does not match, largest first,
    until ``excess`` characters would be gone; and the query's terms that singled the others out."""
    blocks: list[list[int]] = []
    for i, b in enumerate(bodies):
        m = _BLOCK.match(b)
        if not m:
            continue
        indent, j = len(m.group(1)), i + 1
        while j < len(bodies) and (not bodies[j].strip() or len(bodies[j]) - len(bodies[j].lstrip()) > indent):
            j += 1
        while j > i + 1 and not bodies[j - 1].strip():
            j -= 1
        if j - i > 2:
            blocks.append(list(range(i + 1, j)))
    ev = relevance.evidence(["\n".join(bodies[k] for k in [b[0] - 1] + b) for b in blocks], query)
    rel = ev.scores
    if not ev.terms:
        return [], ()  # the query singles out nothing here: code stays whole, as without a query
    out, gone, folded = [], 0, set()
    for block, score in sorted(zip(blocks, rel), key=lambda x: -len(x[0])):
        if gone >= excess:
            break
        if score == 0 and not folded.intersection(block) and block[0] - 1 not in folded:
            out.append((block, "body"))
            folded.update(block)
            gone += sum(lines[k].stop - lines[k].start for k in block)
    return out, ev.terms

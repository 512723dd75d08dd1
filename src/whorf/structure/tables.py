"""Tables and listings (ls -l, ps, df, pip list, dpkg -l, docker/kubectl, sqlite3 -column, CSV, path
lists, trees): the header stays and every row stays byte for byte. Rows are entities: a row is omitted
only when it truly repeats an earlier one (the same cells but for numbers, times and sizes), or when the
output is over the budget. A column that names each row's subject (a header such as PID, ID, NAME or
CONTAINER ID whose values differ from row to row: thirty ``sleep`` processes are thirty processes) makes
every row an entity: none of them is repetition. Rows that differ from the rest
(records.py: the CrashLoopBackOff pod among Running ones, the 98% full disk) are never taken for
repetition and are the last the budget drops (after the rows a query matches, when there is one).
"""

from __future__ import annotations

import csv
import posixpath
import re
from collections import Counter
from statistics import median

from whorf.doc import Doc
from whorf.domain import is_csv
from whorf.lexicon import PATH_LINE
from whorf.lexicon import WORD as _CELL  # a cell of an aligned row

from whorf.structure import budget as B
from whorf.structure import lines as L
from whorf.structure import records, repeat
from whorf.structure.plan import Note, Piece, Plan

MIN_ROWS = 30  # shorter tables pass through whole
TREE_DEPTH = 2
_GAP = re.compile(r"(?<=\S)  +(?=\S)")
_RULE = re.compile(r"^[\s\-=+|:]+$")
_TREE = re.compile(r"^([\s│|`├└─-]*)(?:[├└|`]──?|[├└]── |\|-- |`-- )")


def aligned(lines: list[str]) -> bool:
    """Whitespace-aligned columns without a recognisable header (dpkg -l): at least two column starts
    (a cell after a run of two or more spaces) shared by most lines."""
    content = [ln[:500] for ln in lines if ln.strip()]
    if len(content) < 5:
        return False
    starts: Counter[int] = Counter()
    for ln in content:
        starts.update({m.end() for m in _GAP.finditer(ln)})
    return sum(1 for c in starts.values() if c >= 0.7 * len(content)) >= 2


def plan(source: str | Doc, budget_chars: int | None = None, query: str | None = None) -> Plan:
    doc = Doc.of(source)
    text, lines = doc.text, doc.lines
    content = [i for i, ln in enumerate(lines) if ln.text.strip()]
    small = budget_chars is None or len(text) <= budget_chars
    if not content or len(content) < MIN_ROWS and small:
        return Plan("table", [Piece(0, len(text), "keep")] if text else [])
    if sum(bool(_TREE.match(lines[i].text)) for i in content) >= 0.5 * len(content):
        return _tree(text, lines, budget_chars, query)
    if sum(bool(PATH_LINE.match(lines[i].text)) for i in content) >= 0.6 * len(content):
        return _paths(text, lines, budget_chars, query)
    return _rows(text, lines, content, budget_chars, query)


def _rows(text: str, lines: list[L.Line], content: list[int], budget_chars: int | None,
          query: str | None = None) -> Plan:
    """Header and rule stay; a row that truly repeats an earlier one (only numbers, times, ids differ) may
    go; rows that differ from the rest stay longest; over the budget the plain rows go from the middle."""
    keep = [not ln.text.strip() for ln in lines]
    priority = [B.MUST] * len(lines)
    notes: list[Note] = []
    head = content[0]
    keep[head] = True
    notes.append(Note(head, "header", "header line"))
    body = content[1:]
    if body and _RULE.match(lines[body[0]].text):
        keep[body[0]] = True
        body = body[1:]
    if not body:
        return Plan("table", [Piece(0, len(text), "keep")])
    rows = _csv_rows(lines, head, body) or _aligned_rows(lines, head, body)
    decision = records.decide(rows)
    texts = [lines[i].text for i in body]
    again = [False] * len(body) if _named_rows(lines[head].text, texts) else repeat.repeats(texts)
    width = median(len(r) for r in rows)
    for pos, i in enumerate(body):
        odd = decision.keep[pos] and pos > 0 or len(rows[pos]) < max(1, width // 2)  # unlike a row: keep it
        if odd and pos:
            notes.append(Note(i, "outlier", f"row kept: {decision.reasons.get(pos, 'unlike a row')}"))
        keep[i] = odd or not again[pos] or i == body[-1]
        priority[i] = B.MUST if i == body[-1] else 3 if odd else 1  # outliers go after plain rows
    return L.decide(text, lines, keep, priority, "table", budget_chars, unit="row", notes=notes, query=query)


_SUBJECT = re.compile(r"(?i)(?<!\S)(pid|id|name|names|uuid|container id|image id|sha|commit|hash|key|hostname|host)(?!\S)")


def _named_rows(header: str, rows: list[str]) -> bool:
    """Whether a column names each row's subject: a header word says so (PID, ID, NAME, CONTAINER ID, ...)
    and (nearly) every row has its own value in the cell under it (the cell that overlaps the header word:
    numbers are often right-aligned under it)."""
    if len(rows) < 2:
        return False
    for m in _SUBJECT.finditer(header[:500]):
        a, b = m.span()
        values = [next((c.group() for c in _CELL.finditer(r[:500]) if c.start() < b and c.end() > a), None)
                  for r in rows]
        if None not in values and len(set(values)) >= 0.9 * len(values):
            return True
    return False


def _paths(text: str, lines: list[L.Line], budget_chars: int | None, query: str | None = None) -> Plan:
    """A list of paths (find, ls -1, git ls-files): every path is an entity; over the budget, paths go
    from the middle, each run behind a marker naming the directory they share."""
    keep = [True] * len(lines)
    priority = [B.MUST if i in (0, len(lines) - 1) else 1 for i in range(len(lines))]

    def where(run):
        names = [lines[i].text.strip() for i in run if lines[i].text.strip()]
        return _under(names)

    return L.decide(text, lines, keep, priority, "table", budget_chars, unit="path", where=where, query=query)


def _under(paths: list[str]) -> str | None:
    if not paths:
        return None
    try:
        common = posixpath.commonpath(paths) if len({p.startswith("/") for p in paths}) == 1 else ""
    except ValueError:
        common = ""
    return f"under {common.rstrip('/')}/" if common and common not in (".", "/") else None


def _csv_rows(lines: list[L.Line], head: int, body: list[int]) -> list[dict[str, object]] | None:
    if not is_csv([lines[head].text] + [lines[i].text for i in body[:50]]):
        return None
    names = next(csv.reader([lines[head].text]))
    out = []
    for i in body:
        cells = next(csv.reader([lines[i].text]), [])
        out.append({name: _number(v) for name, v in zip(names, cells)})
    return out


def _aligned_rows(lines: list[L.Line], head: int, body: list[int]) -> list[dict[str, object]]:
    """Cells by the header's columns: split on whitespace, the last column takes the rest of the line."""
    ncols = max(1, int(median(len(lines[i].text.split()) for i in body)))
    names = re.split(r"\s{2,}", lines[head].text.strip())  # "CONTAINER ID   IMAGE" -> 2 names
    if len(names) != ncols:
        names = lines[head].text.split()
    names = names if len(names) == ncols and len(set(names)) == ncols else [str(c) for c in range(ncols)]
    return [_cells(lines[i].text, names) for i in body]


def _cells(line: str, names: list[str]) -> dict[str, object]:
    cells = line.split(None, len(names) - 1)
    return {name: _number(v) for name, v in zip(names, cells)}


def _number(cell: str) -> object:
    try:
        return int(cell)
    except ValueError:
        try:
            return float(cell)
        except ValueError:
            return cell


def _tree(text: str, lines: list[L.Line], budget_chars: int | None, query: str | None = None) -> Plan:
    """A tree (``tree``, ``ls -R``-like): every entry stays under the budget; over it the deepest go first."""
    priority = []
    for i, ln in enumerate(lines):
        m = _TREE.match(ln.text)
        depth = len(m.group(0)) // 4 if m else 0
        priority.append(B.MUST if i in (0, len(lines) - 1) or depth < TREE_DEPTH else -depth)
    return L.decide(text, lines, [True] * len(lines), priority, "table", budget_chars, query=query)

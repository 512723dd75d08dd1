"""Tables and listings: the header stays, a kept row keeps all its cells, and rows like their neighbours
collapse behind a marker. Rows are records (one field per column) and keep the ones that differ
(records.py): the CrashLoopBackOff pod among Running ones, the directory among files, the 98% full disk.
Trees keep their top two levels when they are long.
"""

from __future__ import annotations

import csv
import re
from statistics import median

from whorf.domain import is_csv

from whorf.structure import lines as L
from whorf.structure import records
from whorf.structure.plan import Note, Piece, Plan

MIN_ROWS = 30  # shorter tables pass through whole
TREE_DEPTH = 2
_RULE = re.compile(r"^[\s\-=+|:]+$")
_TREE = re.compile(r"^([\s│|`├└─-]*)(?:[├└|`]──?|[├└]── |\|-- |`-- )")


def plan(text: str) -> Plan:
    lines = L.split(text)
    content = [i for i, ln in enumerate(lines) if ln.text.strip()]
    if len(content) < MIN_ROWS:
        return Plan("table", [Piece(0, len(text), "keep")] if text else [])
    if sum(bool(_TREE.match(lines[i].text)) for i in content) >= 0.5 * len(content):
        return _tree(text, lines)
    return _rows(text, lines, content)


def _rows(text: str, lines: list[L.Line], content: list[int]) -> Plan:
    keep = [not ln.text.strip() for ln in lines]
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
    for pos, (i, k) in enumerate(zip(body, decision.keep)):
        if k:
            keep[i] = True
            if pos:
                notes.append(Note(i, "outlier", f"row kept: {decision.reasons[pos]}"))
    keep[body[-1]] = True
    width = median(len(r) for r in rows)
    for pos, i in enumerate(body):
        if not keep[i] and len(rows[pos]) < max(1, width // 2):  # a line unlike a row: keep it
            keep[i] = True
    return L.merge(L.collapse(text, lines, keep, "table", lambda run: ("row", "similar", None), notes))


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


def _tree(text: str, lines: list[L.Line]) -> Plan:
    keep = []
    for ln in lines:
        m = _TREE.match(ln.text)
        depth = len(m.group(0)) // 4 if m else 0
        keep.append(depth < TREE_DEPTH)
    keep[0] = keep[-1] = True
    return L.merge(L.collapse(text, lines, keep, "table", lambda run: ("line", "deeper", None)))

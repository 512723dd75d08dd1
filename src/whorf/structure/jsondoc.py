"""JSON: re-encoded losslessly first, decided in records, never handed to the word model as raw text.

The output is valid JSON, and every scalar in it is the input's text byte for byte (numbers are never
re-printed, strings keep their escapes). Two lossless re-encodings come first:

- whitespace between tokens goes (indentation is for the eye);
- an array of three or more objects, most of which share the same keys in the same order, becomes a
  columnar object, keys once and one array per row (an item with other keys stays an object there)::

      [{"name": "pip", "version": "24.0"}, {"name": "six", "version": "1.16.0"}]
      -> {"whorf_columns":["name","version"],"rows":[["pip","24.0"],["six","1.16.0"]]}

  :func:`decode` turns it back into the array (every value, nulls included, is kept).

Then deletion, of true repetition only: an item that repeats an earlier item of its array except for
numbers, times, ids and sizes (``repeat.py``) may go; items that differ from the rest (records.py: the one
``failure`` among ``success``) and every item with a name of its own stay. Only over the budget do plain
items go, from the middle of the largest arrays. Each run of omitted items is one marker element
(markers.py) saying how many and which values they shared. NDJSON is decided the same way, one record per
line, and stays line-atomic.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from whorf.doc import Doc
from whorf.domain import is_json, is_ndjson, json_at
from whorf.structure import budget as B
from whorf.structure import lines as L
from whorf.structure import markers, records, relevance, repeat
from whorf.structure.plan import Note, Piece, Plan, omission, with_query_evidence
from whorf.store import handle_of
from whorf.lexicon import JSON_WS as _WS

MAX_SCAN_DEPTH = 32
MIN_COLUMNAR = 3
COLUMNS_KEY, ROWS_KEY = "whorf_columns", "rows"
_DECODER = json.JSONDecoder()


@dataclass(eq=False, slots=True)
class Node:
    start: int
    end: int
    kind: str  # object, array, value
    children: list["Node"] | tuple = ()  # a container's (a list); a value has none
    keys: list[str] | tuple = ()  # an object's keys, as their raw JSON text
    keep: list[bool] | None = None  # an array's items to keep (None: all)
    must: list[bool] | None = None  # items unlike the rest (records.decide): never a repeat, last to go for the budget
    flat: list[dict] | None = None  # flattened items of an array of records
    over_budget: set[int] | None = None  # items the budget dropped (the others dropped repeat an earlier one)


OUTLIER = 3  # the budget priority of an item unlike the rest (plain items: 1)
MARKER_CHARS = 120  # a marker element with the fields its items share is about this long


def plan(source: str | Doc, budget_chars: int | None = None, query: str | None = None) -> Plan:
    doc = Doc.of(source)
    text = doc.text
    lead = len(text) - len(text.lstrip())
    body_start = json_at(doc)  # parsed once: the router asked the same of this document
    if body_start is None:
        return Plan("json", [Piece(0, len(text), "keep")] if text else [])
    start = lead + body_start
    end = len(text.rstrip())
    if body_start == 0 and is_ndjson(text[start:end]) and not is_json(text[start:end]):
        return _ndjson(text, doc.lines, budget_chars, query)
    try:
        root = _scan(text, start, 0)
        _mark_repeats(text, root)
    except (ValueError, RecursionError):
        return Plan("json", [Piece(0, len(text), "keep")])
    out = Plan("json")
    body = _Writer(text, out).emit(root)
    if budget_chars is not None and len(body) + start > budget_chars:
        matched = _trim(text, root, budget_chars - start, len(body), query)
        out = Plan("json", matched=matched)
        body = _Writer(text, out).emit(root)
        with_query_evidence(out)
    if len(body) >= root.end - start:
        return Plan("json", [Piece(0, len(text), "keep")])
    if start:
        out.pieces.append(Piece(0, start, "keep"))
    out.pieces.append(Piece(start, root.end, "replace", body))
    if root.end < len(text):
        out.pieces.append(Piece(root.end, len(text), "keep"))
    return out


def decode(value: Any) -> Any:
    """The parsed output with every columnar object turned back into its array of objects."""
    if isinstance(value, dict):
        if set(value) == {COLUMNS_KEY, ROWS_KEY} and isinstance(value[ROWS_KEY], list):
            cols = value[COLUMNS_KEY]
            return [decode(r) if isinstance(r, dict) else dict(zip(cols, (decode(v) for v in r)))
                    for r in value[ROWS_KEY]]
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


_SCALAR_START = frozenset('"-0123456789tfn')
# one token after JSON's whitespace and commas (the text parsed as JSON already, so a comma only separates):
# a string, with the colon after it when it is an object's key; a bracket; a bare number or literal
_TOKEN = re.compile(r'[ \t\n\r,]*("[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]|[^\s{}\[\],:"]+)(' + _WS.pattern + r':)?')


def _scan(text: str, i: int, depth: int = 0) -> Node:
    """The node at ``i`` with the spans of its children (containers below MAX_SCAN_DEPTH are opaque): one
    pass over the tokens with a stack of open containers."""
    stack: list[Node] = []
    pos = i
    while True:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError("malformed JSON")
        tok, at, pos = m.group(1), m.start(1), m.end()
        c = tok[0]
        if m.group(2) is not None:  # a key
            if not stack or stack[-1].kind != "object" or c != '"':
                raise ValueError("malformed JSON")
            stack[-1].keys.append(tok)
            continue
        if c in "}]":
            if not stack or (c == "}") != (stack[-1].kind == "object"):
                raise ValueError("malformed JSON")
            node = stack.pop()
            node.end = pos
            if not stack:
                return node
            continue
        if c in "{[":
            if len(stack) + depth >= MAX_SCAN_DEPTH:  # opaque: read whole
                _, pos = _DECODER.raw_decode(text, at)
                node = Node(at, pos, "value")
            else:
                node = Node(at, at, "object" if c == "{" else "array", [], [])
        elif c in _SCALAR_START:
            node = Node(at, pos, "value")
        else:
            raise ValueError("malformed JSON")
        if not stack:
            if node.kind == "value":
                return node
        else:
            stack[-1].children.append(node)
        if node.kind != "value":
            stack.append(node)


def _mark_repeats(text: str, node: Node) -> None:
    """Which items of each array of records truly repeat an earlier one and which must stay."""
    for child in node.children:
        _mark_repeats(text, child)
    # only arrays of objects (opaque ones below MAX_SCAN_DEPTH too) can be records (records.similar): a long
    # array of numbers is not parsed again
    if node.kind != "array" or len(node.children) < records.MIN_ITEMS or any(text[c.start] != "{" for c in node.children):
        return
    items = json.loads(text[node.start:node.end])  # one parse for the whole array
    if not records.similar(items):
        return
    flat = [records.flatten(x) for x in items]
    outliers = records.decide(flat).keep
    again = repeat.repeats([json.dumps(f, ensure_ascii=False) for f in flat])
    node.flat = flat
    node.must = [bool(o) for o in outliers]
    node.keep = [m or not r for m, r in zip(node.must, again)]


def _trim(text: str, root: Node, budget_chars: int, whole: int, query: str | None = None) -> tuple[str, ...]:
    """Over the budget: drop plain items of the arrays of records, from the middle, until the output fits
    (``whole``: the output's length before, every repeat already omitted)."""
    arrays: list[Node] = []
    stack = [root]
    while stack:
        n = stack.pop()
        if n.keep is not None:
            arrays.append(n)
        stack.extend(n.children)
    units = [(a, i) for a in arrays for i in range(len(a.children))]
    if not units:
        return ()
    writer = _Writer(text, Plan("json"))
    columns = {id(a): _columns(a) for a in arrays}  # once per array, not once per item
    sizes = [len(writer.item(a, i, columns[id(a)])) + 1 for a, i in units]  # as emitted, with its comma
    keep = [a.keep[i] for a, i in units]
    priority = [_priority(i, a.must[i]) for a, i in units]
    ev = relevance.evidence([text[a.children[i].start:a.children[i].end] for a, i in units], query) if query else None
    fixed = whole - sum(s for s, k in zip(sizes, keep) if k)
    final = B.trim(sizes, keep, priority, max(0, budget_chars - fixed), marker_chars=MARKER_CHARS,
                   relevance=ev.scores if ev else None)
    _rekeep_short_runs(units, keep, final, sizes)
    for (a, i), k in zip(units, final):
        if a.keep[i] and not k:
            if a.over_budget is None:
                a.over_budget = set()
            a.over_budget.add(i)
        a.keep[i] = k
    return ev.terms if ev else ()


def _priority(i: int, unlike: bool) -> int:
    """An item's priority for the budget: the first never goes; items unlike the rest (an error among
    successes) go after the plain ones, as a table's outlier rows do: an array whose outliers alone are
    over the budget is cut to it, the rest behind markers."""
    return B.MUST if i == 0 else OUTLIER if unlike else 1


def _rekeep_short_runs(units: list, keep: list[bool], final: list[bool], sizes: list[int]) -> None:
    """A run of dropped items no longer than a marker comes back: its marker would cost more than it saves."""
    j = 0
    while j < len(units):
        if keep[j] and not final[j]:
            k = j
            while k < len(units) and keep[k] and not final[k] and units[k][0] is units[j][0]:
                k += 1
            if sum(sizes[j:k]) <= MARKER_CHARS:
                final[j:k] = [True] * (k - j)
            j = k
        else:
            j += 1


class _Writer:
    """Compact JSON from the input's own spans, with columnar arrays and marker elements."""

    def __init__(self, text: str, plan: Plan):
        self.text, self.plan = text, plan
        self._at = (0, 0)  # (offset, its line): markers come in document order, lines are counted on from there

    def _line(self, offset: int) -> int:
        at, line = self._at if offset >= self._at[0] else (0, 0)
        line += self.text.count("\n", at, offset)
        self._at = (offset, line)
        return line

    def emit(self, node: Node) -> str:
        if node.kind == "value":
            return self.text[node.start:node.end]
        if node.kind == "object":
            return "{" + ",".join(f"{k}:{self.emit(c)}" for k, c in zip(node.keys, node.children)) + "}"
        items = self._items(node, columnar := _columns(node))
        if columnar is None:
            return "[" + ",".join(items) + "]"
        return f'{{"{COLUMNS_KEY}":[{",".join(columnar)}],"{ROWS_KEY}":[{",".join(items)}]}}'

    def _items(self, node: Node, columns: list[str] | None) -> list[str]:
        out: list[str] = []
        kids, keep = node.children, node.keep or [True] * len(node.children)
        i = 0
        while i < len(kids):
            if keep[i]:
                out.append(self.item(node, i, columns))
                i += 1
                continue
            j = i
            while j < len(kids) and not keep[j]:
                j += 1
            out.append(self._marker(node, i, j))
            i = j
        return out

    def item(self, node: Node, i: int, columns: list[str] | None) -> str:
        """Item ``i`` of an array as emitted: a row of values when the array is columnar."""
        kid = node.children[i]
        if columns is not None and kid.kind == "object" and kid.keys == columns:
            return "[" + ",".join(self.emit(c) for c in kid.children) + "]"
        return self.emit(kid)

    def _marker(self, node: Node, i: int, j: int) -> str:
        kids = node.children
        original = self.text[kids[i].start:kids[j - 1].end]
        line = self._line(kids[i].start)
        budget = bool(node.over_budget and node.over_budget.intersection(range(i, j)))
        self.plan.omissions.append(omission(original, "item", j - i, line, kids[i].start,
                                            "budget" if budget else "repetition"))
        self.plan.notes.append(Note(line, "collapsed", f"{j - i} items omitted"))
        return markers.json_marker_text(j - i, handle_of(original), records.shared((node.flat or [])[i:j]))


def _columns(node: Node) -> list[str] | None:
    """The key list most objects of an array share (in the same order), when most items are such objects;
    an item with other keys stays an object among the rows."""
    kids = node.children
    if node.kind != "array" or len(kids) < MIN_COLUMNAR:
        return None
    counts = Counter(tuple(k.keys) for k in kids if k.kind == "object" and k.keys)
    if not counts:
        return None
    first, n = counts.most_common(1)[0]
    if n < MIN_COLUMNAR or n < 0.5 * len(kids) or len(set(first)) != len(first):
        return None
    return list(first)


def _ndjson(text: str, lines: list[L.Line], budget_chars: int | None, query: str | None = None) -> Plan:
    rows = [(i, json.loads(ln.text)) for i, ln in enumerate(lines) if ln.text.strip()]
    items = [obj for _, obj in rows]
    keep = [True] * len(lines)
    priority = [B.MUST] * len(lines)
    notes: list[Note] = []
    if records.similar(items):
        flat = [records.flatten(x) for x in items]
        outliers = records.decide(flat)
        again = repeat.repeats([json.dumps(f, ensure_ascii=False) for f in flat])
        for pos, (i, _) in enumerate(rows):
            must = outliers.keep[pos]
            keep[i] = must or not again[pos]
            priority[i] = _priority(pos, must)
            if must and pos:
                notes.append(Note(i, "outlier", outliers.reasons.get(pos, "")))
    return L.decide(text, lines, keep, priority, "json", budget_chars, unit="record", notes=notes, query=query)

"""JSON: decided in records, never handed to the word model as raw text.

The output parses as JSON with the input's top-level type. Objects keep all their keys. An array of five
or more similar objects keeps its first item and every item that differs from the rest (records.py); each
run of omitted items becomes one marker element (markers.py) saying how many were omitted and which values
they shared. Kept items stay byte for byte; whitespace between tokens outside strings shrinks to one space
(the words stay the words of the input). NDJSON is decided the same way, one record per line, and stays
line-atomic.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from whorf.domain import is_json, is_ndjson, json_start
from whorf.structure import lines as L
from whorf.structure import markers, records
from whorf.structure.plan import Note, Piece, Plan, omission
from whorf.store import handle_of

MAX_SCAN_DEPTH = 32
_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
_COMPACT = re.compile(r'("(?:[^"\\]|\\.)*")|[ \t\n\r]+', re.DOTALL)


@dataclass
class Node:
    start: int
    end: int
    kind: str  # object, array, value
    children: list["Node"] = field(default_factory=list)


def plan(text: str) -> Plan:
    lead = len(text) - len(text.lstrip())
    body_start = json_start(text.strip())
    if body_start is None:
        return Plan("json", [Piece(0, len(text), "keep")] if text else [])
    start = lead + body_start
    end = len(text.rstrip())
    if body_start == 0 and is_ndjson(text[start:end]) and not is_json(text[start:end]):
        return _ndjson(text)
    out = Plan("json")
    if start:
        out.pieces.append(Piece(0, start, "keep"))
    try:
        root = _scan(text, start, 0)
    except (ValueError, RecursionError):
        return Plan("json", [Piece(0, len(text), "keep")])
    edits: list[tuple[int, int, str]] = []
    _collapse_arrays(text, root, edits, out)
    rebuilt = _apply(text, start, root.end, edits)
    compact = _COMPACT.sub(lambda m: m.group(1) or " ", rebuilt).strip()
    if len(compact) >= root.end - start:
        out.pieces.append(Piece(start, len(text), "keep"))
        out.omissions.clear()
        return out
    out.pieces.append(Piece(start, root.end, "replace", compact))
    if root.end < len(text):
        out.pieces.append(Piece(root.end, len(text), "keep"))
    return out


def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()


def _scan(text: str, i: int, depth: int) -> Node:
    """The node at ``i`` with the spans of its children (containers below MAX_SCAN_DEPTH are opaque)."""
    i = _skip(text, i)
    opener = text[i:i + 1]
    if opener not in ("{", "[") or depth >= MAX_SCAN_DEPTH:
        _, end = _DECODER.raw_decode(text, i)
        return Node(i, end, "value")
    node = Node(i, i, "object" if opener == "{" else "array")
    closer = "}" if opener == "{" else "]"
    j = _skip(text, i + 1)
    if text[j:j + 1] == closer:
        node.end = j + 1
        return node
    while True:
        if node.kind == "object":
            _, j = _DECODER.raw_decode(text, j)  # the key
            j = _skip(text, j)
            if text[j:j + 1] != ":":
                raise ValueError("expected ':'")
            j += 1
        child = _scan(text, j, depth + 1)
        node.children.append(child)
        j = _skip(text, child.end)
        if text[j:j + 1] == ",":
            j = _skip(text, j + 1)
            continue
        if text[j:j + 1] == closer:
            node.end = j + 1
            return node
        raise ValueError("malformed JSON")


def _collapse_arrays(text: str, node: Node, edits: list[tuple[int, int, str]], out: Plan) -> None:
    if node.kind == "array" and len(node.children) >= records.MIN_ITEMS:
        items = [json.loads(text[c.start:c.end]) for c in node.children]
        if records.similar(items):
            flat = [records.flatten(x) for x in items]
            decision = records.decide(flat)
            if not all(decision.keep):
                _mark_runs(text, node, flat, decision, edits, out)
                for child, kept in zip(node.children, decision.keep):
                    if kept:
                        _collapse_arrays(text, child, edits, out)
                return
    for child in node.children:
        _collapse_arrays(text, child, edits, out)


def _mark_runs(text, node: Node, flat, decision: records.Decision, edits, out: Plan) -> None:
    kids, keep = node.children, decision.keep
    line_of = lambda pos: text.count("\n", 0, pos)  # noqa: E731 - used for notes only
    for i, k in enumerate(keep):
        if k and i:
            out.notes.append(Note(line_of(kids[i].start), "outlier", f"item {i} kept: {decision.reasons[i]}"))
    i = 0
    while i < len(kids):
        if keep[i]:
            i += 1
            continue
        j = i
        while j < len(kids) and not keep[j]:
            j += 1
        original = text[kids[i].start:kids[j - 1].end]
        handle = handle_of(original)
        marker = markers.json_marker_text(j - i, handle, records.shared(flat[i:j]))
        edits.append((kids[i].start, kids[j - 1].end, marker))
        out.omissions.append(omission(original, "item", j - i, line_of(kids[i].start), kids[i].start))
        out.notes.append(Note(line_of(kids[i].start), "collapsed", f"{j - i} similar items omitted"))
        i = j


def _apply(text: str, start: int, end: int, edits: list[tuple[int, int, str]]) -> str:
    parts, pos = [], start
    for a, b, replacement in sorted(edits):
        parts.append(text[pos:a])
        parts.append(replacement)
        pos = b
    parts.append(text[pos:end])
    return "".join(parts)


def _ndjson(text: str) -> Plan:
    lines = L.split(text)
    rows = [(i, json.loads(ln.text)) for i, ln in enumerate(lines) if ln.text.strip()]
    items = [obj for _, obj in rows]
    keep = [True] * len(lines)
    notes: list[Note] = []
    if records.similar(items):
        flat = [records.flatten(x) for x in items]
        decision = records.decide(flat)
        for (i, _), k in zip(rows, decision.keep):
            keep[i] = k
            if k and i:
                notes.append(Note(i, "outlier", decision.reasons.get(rows.index((i, _)), "")))
    if keep[-1] is False and lines[-1].text.strip() == "":
        keep[-1] = True
    return L.merge(L.collapse(text, lines, keep, "json", lambda run: ("record", "similar", None), notes))

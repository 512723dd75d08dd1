"""A structural plan: what the structural stage decided, in the input's own units.

A plan is a list of pieces that cover the input in order. Each piece is one of:

- ``keep``: the input span, verbatim;
- ``words``: the input span, handed to the word model (prose, messages, code);
- ``marker``: the input span is omitted and ``text`` (a marker) stands in its place;
- ``replace``: the input span is replaced by ``text`` (a JSON document with marker elements).

Omitted originals travel with the plan (``omissions``) so the compressor can store them under their
handles; ``notes`` say what was decided and why, for ``whorf explain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from whorf.store import handle_of

Kind = Literal["keep", "words", "marker", "replace"]


@dataclass(frozen=True, slots=True)
class Piece:
    start: int
    end: int
    kind: Kind
    text: str = ""


@dataclass(frozen=True, slots=True)
class Omission:
    handle: str
    unit: str  # line, row, item, match, frame, record
    count: int
    line: int  # first omitted line of the input (0-based)
    original: str
    start: int  # character offset of the original in the input
    # why it went: "repetition" (it repeats an earlier unit), "budget" (over the budget), "query" (over the
    # budget, the query's evidence singled out other units), "blob" (a licence header, base64, minified or
    # data table folded); "" where not recorded
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Note:
    line: int  # 0-based input line the decision is about
    action: str  # kept, collapsed, outlier, header, headline
    reason: str


@dataclass
class Plan:
    structure: str  # the structure module (shape) that built it: Stats.structure when it changed the text
    pieces: list[Piece] = field(default_factory=list)
    omissions: list[Omission] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # the query's specific terms that singled out the units the budget kept (relevance.evidence); empty when
    # the query is no evidence, and the budget then decides as without one
    matched: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return any(p.kind in ("marker", "replace") for p in self.pieces)

    def render(self, text: str) -> str:
        """The output, with every ``words`` piece kept whole (the compressor fills those in)."""
        return "".join(text[p.start:p.end] if p.kind in ("keep", "words") else p.text for p in self.pieces)


def whole(text: str, structure: str, kind: Kind) -> Plan:
    """A plan that hands the whole text to one kind of piece."""
    return Plan(structure, [Piece(0, len(text), kind)] if text else [])


def omission(original: str, unit: str, count: int, line: int, start: int, reason: str = "") -> Omission:
    return Omission(handle_of(original), unit, count, line, original, start, reason)


REASONS = {"similar": "repetition", "more": "budget", "older": "budget", "body": "query"}


def with_query_evidence(plan: Plan) -> Plan:
    """``plan`` with its budget omissions marked as the query's when the query matched the units it chose
    among (the evidence that singled out the units kept)."""
    if plan.matched:
        plan.omissions = [replace(o, reason="query") if o.reason == "budget" else o for o in plan.omissions]
    return plan


def enveloped(plan: Plan, header: str) -> Plan:
    """``plan`` (of a body) moved behind ``header``, which is kept byte for byte: the plan of header + body."""
    at, lines = len(header), header.count("\n")
    pieces = [Piece(0, at, "keep")] + [replace(p, start=p.start + at, end=p.end + at) for p in plan.pieces]
    omissions = [replace(o, line=o.line + lines, start=o.start + at) for o in plan.omissions]
    notes = [replace(n, line=n.line + lines) for n in plan.notes]
    return Plan(plan.structure, pieces, omissions, notes, plan.matched)

"""Line-atomic decisions: keep a line whole or omit it; runs of omitted lines become one marker line.

Every structure whose unit is a line (logs, tables, listings, search results, diffs, diagnostics) decides
a keep flag per line, then :func:`collapse` turns the flags into a plan. A run is only replaced by a marker
when the marker pays for itself (``markers.pays``: at most two thirds of the run's o200k tokens); otherwise its lines stay, so the output is never longer
than the input and nothing is cut or fused.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from whorf.structure import budget as B
from whorf.structure import markers, relevance, repeat
from whorf.structure.plan import REASONS, Note, Piece, Plan, omission, with_query_evidence
from whorf.store import handle_of

from whorf.doc import Line


# -> (unit, adjective, varying) or (unit, adjective, varying, detail): what the marker of a run says
Describe = Callable[[Sequence[int]], tuple]


def _plain(unit: str) -> Describe:
    return lambda run: (unit, "similar", None)


def collapse(
    text: str,
    lines: Sequence[Line],
    keep: Sequence[bool],
    structure: str,
    describe: Describe | None = None,
    notes: list[Note] | None = None,
    min_run: int = 1,
) -> Plan:
    """A plan keeping the flagged lines whole and replacing each run of unflagged lines with a marker."""
    describe = describe or _plain("line")
    plan = Plan(structure, notes=list(notes or []))
    i, n = 0, len(lines)
    while i < n:
        if keep[i]:
            j = i
            while j < n and keep[j]:
                j += 1
            plan.pieces.append(Piece(lines[i].start, lines[j - 1].stop, "keep"))
            i = j
            continue
        j = i
        while j < n and not keep[j]:
            j += 1
        _omit_run(text, lines, list(range(i, j)), plan, describe, min_run)
        i = j
    return plan


def _omit_run(text: str, lines: Sequence[Line], run: list[int], plan: Plan, describe: Describe, min_run: int) -> None:
    first, last = lines[run[0]], lines[run[-1]]
    original = text[first.start:last.stop]
    unit, adjective, varying, *rest = describe(run)
    ending = text[last.end:last.stop]
    indent = re.match(r"[ \t]*", first.text).group() if unit in ("frame",) else ""
    marker = markers.line_marker(len(run), unit, handle_of(original), adjective=adjective, varying=varying,
                                 indent=indent, detail=rest[0] if rest else None)
    if len(run) < min_run or not markers.pays(marker + ending, original):
        plan.pieces.append(Piece(first.start, last.stop, "keep"))
        return
    plan.pieces.append(Piece(first.start, last.stop, "marker", marker + ending))
    reason = REASONS.get(adjective, "blob")
    plan.omissions.append(omission(original, unit, len(run), run[0], first.start, reason))
    plan.notes.append(Note(run[0], "collapsed", f"{len(run)} {unit}(s) omitted"))


def merge(plan: Plan) -> Plan:
    """Adjacent keep pieces merged into one (cosmetic: fewer pieces to walk)."""
    out: list[Piece] = []
    for p in plan.pieces:
        if out and p.kind == "keep" and out[-1].kind == "keep" and out[-1].end == p.start:
            out[-1] = Piece(out[-1].start, p.end, "keep")
        else:
            out.append(p)
    plan.pieces = out
    return plan



def decide(text: str, lines: Sequence[Line], keep: Sequence[bool], priority: Sequence[int], structure: str,
           budget_chars: int | None, unit: str = "line", notes: list[Note] | None = None,
           where: Callable[[Sequence[int]], str] | None = None, query: str | None = None,
           groups: Sequence[int] | None = None) -> Plan:
    """The plan of a line-shaped output: ``keep`` is False for lines that truly repeat an earlier one; the
    budget then drops whole kept lines by ``priority``; each run of omitted lines becomes one marker that
    says what varied (repeats) or how many more units went (budget), and ``where`` they were. With a
    ``query``, the budget drops the lines least relevant to it first (relevance.py). ``groups`` (a unit
    number per line, ascending) makes the budget keep or drop several lines together."""
    final, matched = _trim_units(lines, keep, priority, budget_chars, query, groups or range(len(lines)))
    dropped = {i for i, (k, f) in enumerate(zip(keep, final)) if k and not f}

    def describe(run: Sequence[int]) -> tuple:
        if not dropped.intersection(run):
            texts = [lines[i].text for i in run]
            same = len({repeat.key(t) for t in texts}) == 1
            return "line", "similar", repeat.varying(texts) if same else None
        return unit, "more", None, where(run) if where else None

    # a note about a line the budget dropped after all (an outlier row past it) would point into a marker
    kept_notes = [n for n in notes if n.line not in dropped] if notes and dropped else notes
    plan = merge(collapse(text, lines, final, structure, describe, kept_notes))
    plan.matched = matched
    return with_query_evidence(plan)


def _trim_units(lines: Sequence[Line], keep: Sequence[bool], priority: Sequence[int], budget_chars: int | None,
                query: str | None, groups: Sequence[int]) -> tuple[list[bool], tuple[str, ...]]:
    """The budget's keep flags per line, deciding unit by unit (a unit: the lines sharing a group), and
    the query's terms that singled units out (relevance.evidence)."""
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    units = list(members.values())
    sizes = [sum(lines[i].stop - lines[i].start for i in u if keep[i]) for u in units]
    alive = [any(keep[i] for i in u) for u in units]
    over = budget_chars is not None and sum(s for s, k in zip(sizes, alive) if k) > budget_chars
    ev = relevance.evidence(["\n".join(lines[i].text for i in u) for u in units], query) if query and over else None
    ranks = [max(priority[i] for i in u) for u in units]
    final_units = B.trim(sizes, alive, ranks, budget_chars, relevance=ev.scores if ev else None, marked=True)
    final = list(keep)
    for u, k in zip(units, final_units):
        if not k:
            for i in u:
                final[i] = False
    return final, ev.terms if ev else ()

"""Commit logs (``git log``, ``git log --oneline``, ``git log --stat``): every commit is an entity (the agent
shows, reverts or cherry-picks it by its hash), so every line stays verbatim under the budget. Over the
budget, whole commits go, oldest first (the log's end), behind one marker saying how many; the newest
commits stay.
"""

from __future__ import annotations

import re

from whorf.doc import Doc
from whorf.structure import budget as B
from whorf.structure import lines as L
from whorf.structure import relevance
from whorf.structure.plan import Piece, Plan, with_query_evidence

_COMMIT = re.compile(r"^commit [0-9a-f]{7,64}\b")
_ONELINE = re.compile(r"^(\* |\| )*[0-9a-f]{7,40} \S")


def detect(lines: list[str]) -> bool:
    content = [ln for ln in lines if ln.strip()]
    if not content:
        return False
    if _COMMIT.match(content[0]) and sum(bool(_COMMIT.match(ln)) for ln in content) >= 1:
        return True
    return len(content) >= 3 and sum(bool(_ONELINE.match(ln)) for ln in content) >= 0.8 * len(content)


def plan(source: str | Doc, budget_chars: int | None = None, query: str | None = None) -> Plan:
    doc = Doc.of(source)
    text, lines = doc.text, doc.lines
    if budget_chars is None or len(text) <= budget_chars:
        return Plan("gitlog", [Piece(0, len(text), "keep")] if text else [])
    full = any(_COMMIT.match(ln.text) for ln in lines)
    commit = -1
    owner = []  # the commit each line belongs to
    for ln in lines:
        if _COMMIT.match(ln.text) if full else _ONELINE.match(ln.text):
            commit += 1
        owner.append(max(commit, 0))
    total = max(commit + 1, 1)
    texts, sizes = [""] * total, [0] * total
    for ln, o in zip(lines, owner):
        texts[o] += ln.text + "\n"
        sizes[o] += ln.stop - ln.start
    # whole commits are the budget's units: the newest stays, older ones weigh less (so they go first),
    # and with a query the commits it matches outrank every commit it does not
    priority = [B.MUST if o == 0 else total - o for o in range(total)]
    ev = relevance.evidence(texts, query)
    kept = B.trim(sizes, [True] * total, priority, budget_chars, relevance=ev.scores)
    final = [kept[o] for o in owner]
    matched = ev.terms  # a query that singles out no commit drops as no query does: the oldest

    def describe(run):
        return "line", "more" if matched else "older", None, f"{len({owner[i] for i in run})} whole commits"

    out = L.merge(L.collapse(text, lines, final, "gitlog", describe))
    out.matched = matched
    return with_query_evidence(out)

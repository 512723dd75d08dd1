"""Commit logs (``git log``, ``git log --oneline``, ``git log --stat``): every commit is an entity (the agent
shows, reverts or cherry-picks it by its hash), so every line stays verbatim under the budget. Over the
budget, whole commits go, oldest first (the log's end), behind one marker saying how many; the newest
commits stay.
"""

from __future__ import annotations

import re

from whorf.structure import budget as B
from whorf.structure import lines as L
from whorf.structure import relevance
from whorf.structure.plan import Piece, Plan

_COMMIT = re.compile(r"^commit [0-9a-f]{7,64}\b")
_ONELINE = re.compile(r"^(\* |\| )*[0-9a-f]{7,40} \S")


def detect(lines: list[str]) -> bool:
    content = [ln for ln in lines if ln.strip()]
    if not content:
        return False
    if _COMMIT.match(content[0]) and sum(bool(_COMMIT.match(ln)) for ln in content) >= 1:
        return True
    return len(content) >= 3 and sum(bool(_ONELINE.match(ln)) for ln in content) >= 0.8 * len(content)


def plan(text: str, budget_chars: int | None = None, query: str | None = None) -> Plan:
    lines = L.split(text)
    if budget_chars is None or len(text) <= budget_chars:
        return Plan("gitlog", [Piece(0, len(text), "keep")] if text else [])
    full = any(_COMMIT.match(ln.text) for ln in lines)
    commit = -1
    owner = []  # the commit each line belongs to
    for ln in lines:
        if _COMMIT.match(ln.text) if full else _ONELINE.match(ln.text):
            commit += 1
        owner.append(max(commit, 0))
    total = commit + 1
    # newer commits (earlier in the log) weigh more; the budget drops lowest first, so oldest go first; with
    # a query, commits that match it outrank every commit that does not
    rel = _commit_relevance(lines, owner, total, query)
    rank = {o: r for r, o in enumerate(sorted(range(total), key=lambda o: (rel[o], -o)))}  # unique per commit
    keep = [True] * len(lines)
    priority = [B.MUST if o == 0 else 1 + rank[o] for o in owner]
    final = _by_commit(lines, keep, priority, budget_chars)

    def describe(run):
        # without a query the budget drops the oldest; with one, the least relevant
        return "line", "more" if query else "older", None, f"{len({owner[i] for i in run})} whole commits"

    return L.merge(L.collapse(text, lines, final, "gitlog", describe))


def _by_commit(lines, keep, priority, budget_chars) -> list[bool]:
    sizes = [ln.stop - ln.start for ln in lines]
    order = sorted(range(len(lines)), key=lambda i: priority[i])
    total, final = sum(sizes), list(keep)
    for i in order:
        if total + 60 <= budget_chars or priority[i] >= B.MUST:
            break
        final[i] = False
        total -= sizes[i]
    # a commit goes whole or stays whole
    gone = {priority[i] for i in range(len(lines)) if not final[i]}
    return [priority[i] not in gone for i in range(len(lines))]


def _commit_relevance(lines, owner: list[int], total: int, query: str | None) -> list[float]:
    texts = [""] * total
    for ln, o in zip(lines, owner):
        texts[o] += ln.text + "\n"
    return relevance.scores(texts, query)

"""The budget: whole units are dropped only when the re-encoded output is still over it.

A budget is given in tokens of a real tokenizer (o200k_base, :mod:`whorf.tokens`) and turned into
characters for each text by that text's own characters per token, measured on a sample of it (listings
and JSON run 2 to 3 characters a token, prose about 4: characters / 4 would give a listing half again
its budget). Within one text, units are then sized in characters. The default
(``config.DEFAULT_BUDGET_TOKENS``, 12,000) is about what Claude Code keeps of one shell output (it cuts at
30,000 characters), so under it every entity of such an output stays.

Over the budget, units the query does not match go first, then the least relevant; among equals the lowest
priority first, then from the middle outwards (the first and last units of an output stay longest). Each
module gives a priority per unit: ``MUST`` units (headers, errors, warnings, a diff's changes) never go.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

CHARS_PER_TOKEN = 4
MUST = 1_000_000  # a priority the budget never drops


MARKER_CHARS = 70  # a marker line is about this long ("[... 12 more lines omitted, ...; whorf:<12 hex> ...]")


SAMPLE = 12_000  # characters of a text whose tokens are counted to size its budget


def chars(budget_tokens: int | None, text: str | None = None) -> int | None:
    """The budget in characters (None: no budget): ``budget_tokens`` o200k tokens of ``text`` (by its own
    characters per token, from a sample of its start, middle and end), or characters / 4 without a text."""
    if budget_tokens is None:
        return None
    if not text or len(text) <= budget_tokens:  # fits at any ratio (a token is a character or more): no count
        return budget_tokens * CHARS_PER_TOKEN
    return int(budget_tokens * chars_per_token(text))


@lru_cache(maxsize=1)  # the normal and the query budget of one text ask in turn
def chars_per_token(text: str) -> float:
    """``text``'s characters per o200k token, measured on up to ``SAMPLE`` characters of it (1 to 6)."""
    from whorf import tokens

    if len(text) <= SAMPLE:
        sample = text
    else:
        third, mid = SAMPLE // 3, len(text) // 2
        sample = text[:third] + text[mid - third // 2: mid + third // 2] + text[-third:]
    return min(6.0, max(1.0, len(sample) / max(1, tokens.count(sample))))


def trim(sizes: Sequence[int], keep: Sequence[bool], priority: Sequence[int], budget_chars: int | None,
         marker_chars: int = MARKER_CHARS, relevance: Sequence[float] | None = None,
         marked: bool = False) -> list[bool]:
    """The keep flags after dropping kept units until the kept sizes plus about one marker per dropped run
    fit ``budget_chars``: units the query does not match first, then the least relevant; among equals the
    lowest priority, then the one nearest the middle. Without a query (``relevance`` None or all 0) the
    order is priority and position. ``marked``: the units already not kept will stand behind markers too
    (repetition), which count against the budget from the start; a dropped unit between two of them joins
    them into one."""
    out = list(keep)
    if budget_chars is None:
        return out
    total = sum(s for s, k in zip(sizes, out) if k)
    if total <= budget_chars:  # (markers already there replace longer runs: under the budget they fit)
        return out
    n = len(sizes)
    middle = (n - 1) / 2
    rel = relevance or [0.0] * n
    # a unit the query matches outranks every unit it does not (errors and other MUST units aside)
    order = sorted((i for i in range(n) if out[i] and priority[i] < MUST),
                   key=lambda i: (rel[i] > 0, rel[i], priority[i], abs(i - middle)))
    runs = sum(1 for i in range(n) if not out[i] and (i == 0 or out[i - 1])) if marked else 0
    for i in order:
        if total + runs * marker_chars <= budget_chars:
            break
        out[i] = False
        total -= sizes[i]
        left = i > 0 and not out[i - 1]
        right = i + 1 < n and not out[i + 1]
        runs += 1 - left - right  # a new run, a longer one, or two joined into one
    return _keep_best_matches(out, keep, sizes, rel, budget_chars)


BEST_MATCHES = 3  # units the query matches best that the budget never drops (if each fits the budget)


def _keep_best_matches(out: list[bool], keep: Sequence[bool], sizes: Sequence[int], rel: Sequence[float],
                       budget_chars: int) -> list[bool]:
    """The units the query matches best stay even when the markers around them cost more than the budget
    allows: the answer is what the agent asked for (the output may then run over by those units)."""
    top = max(rel, default=0.0)
    if top <= 0:
        return out
    best = sorted((i for i in range(len(rel)) if rel[i] == top and keep[i]), key=lambda i: sizes[i])[:BEST_MATCHES]
    for i in best:
        if sizes[i] <= budget_chars:
            out[i] = True
    return out

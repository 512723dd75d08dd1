"""Keep decisions from word scores: threshold or target rate, then the must-keep override.

Given phrases (``whorf.phrases.chunk``), the decision is made per phrase: a phrase is kept when its mean
word score passes, a must-keep word forces its whole phrase, and under a target rate the best phrases are
taken while each brings the kept count nearer the budget (so it lands within half a phrase of it, forced
phrases aside). No phrase comes out cut.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from whorf import phrases as chunks


def by_threshold(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Keep words whose score is strictly above ``threshold``."""
    return scores > threshold


def by_rate(scores: np.ndarray, rate: float, forced: np.ndarray | None = None) -> np.ndarray:
    """Keep the top-scoring words until ``round(rate * n)`` words are kept, forced words included.

    When the forced words alone exceed the budget they are all kept and nothing else is.
    """
    n = len(scores)
    budget = _budget(rate, n)
    keep = np.zeros(n, dtype=bool) if forced is None else forced.copy()
    room = budget - int(keep.sum())
    if room > 0:
        candidates = np.flatnonzero(~keep)
        # stable: ties go to the earlier word
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        keep[order[:room]] = True
    return keep


def _budget(rate: float, n: int) -> int:
    """How many of ``n`` words a target rate keeps: ``round(rate * n)``, halves up."""
    return min(n, max(0, math.floor(rate * n + 0.5)))


def decide(
    scores: np.ndarray,
    must_keep: Sequence[bool],
    *,
    threshold: float = 0.5,
    rate: float | None = None,
    override: bool = True,
    phrases: np.ndarray | None = None,
) -> np.ndarray:
    """Keep decisions for one text's words; ``phrases`` (a phrase id per word) makes them per phrase."""
    forced = np.asarray(must_keep, dtype=bool) if override else None
    if phrases is None or not len(scores):
        if rate is not None:
            return by_rate(scores, rate, forced)
        keep = by_threshold(scores, threshold)
        return keep | forced if forced is not None else keep
    pooled = chunks.pooled(scores, phrases)
    forced = chunks.whole(forced, phrases) if forced is not None else np.zeros(len(scores), dtype=bool)
    if rate is not None:
        return phrases_by_rate(pooled, phrases, rate, forced)
    return by_threshold(pooled, threshold) | forced


def phrases_by_rate(pooled: np.ndarray, phrases: np.ndarray, rate: float, forced: np.ndarray) -> np.ndarray:
    """Whole phrases, best pooled score first, while the kept words stay nearest ``round(rate * n)``: a
    phrase goes in when it brings the count closer to the budget (forced phrases always)."""
    n = len(pooled)
    budget = _budget(rate, n)
    keep = forced.copy()
    kept = int(keep.sum())
    spans = chunks.spans(phrases)
    order = sorted(range(len(spans)), key=lambda p: -float(pooled[spans[p][0]]))  # stable: earlier first on ties
    for p in order:
        a, b = spans[p]
        if keep[a] or kept >= budget:
            continue
        if abs(kept + (b - a) - budget) < abs(kept - budget):
            keep[a:b] = True
            kept += b - a
    return keep

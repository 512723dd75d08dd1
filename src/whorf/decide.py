"""Keep decisions from word scores: threshold or target rate, then the must-keep override.

Given phrases (``whorf.phrases.chunk``), the decision is made per phrase: a phrase is kept when its mean
word score passes, a must-keep word forces its whole phrase, and under a target rate the best phrases are
taken until the budget is reached (the last one whole). No phrase comes out cut.
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
    budget = min(n, max(0, math.floor(rate * n + 0.5)))
    keep = np.zeros(n, dtype=bool) if forced is None else forced.copy()
    room = budget - int(keep.sum())
    if room > 0:
        candidates = np.flatnonzero(~keep)
        # stable: ties go to the earlier word
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        keep[order[:room]] = True
    return keep


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
    if phrases is not None and len(scores):
        scores = chunks.pooled(scores, phrases)
        forced = chunks.whole(forced, phrases) if forced is not None else None
    if rate is not None:
        keep = by_rate(scores, rate, forced)
    else:
        keep = by_threshold(scores, threshold)
        keep = keep | forced if forced is not None else keep
    return chunks.whole(keep, phrases) if phrases is not None and len(scores) else keep

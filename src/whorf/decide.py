"""Keep decisions from word scores: threshold or target rate, then the must-keep override."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


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
) -> np.ndarray:
    forced = np.asarray(must_keep, dtype=bool) if override else None
    if rate is not None:
        return by_rate(scores, rate, forced)
    keep = by_threshold(scores, threshold)
    return keep | forced if forced is not None else keep

"""Baselines a user would otherwise pick, run on the same texts as the model.

- identity: no compression.
- head_tail: first and last lines at the model's character budget (what Codex CLI and Claude Code do).
- regex_only: keep only the must-keep words.
- random_override: random words at the model's word keep rate, plus the must-keep override.
"""

from __future__ import annotations

import numpy as np

from whorf.segment import Segmented, rebuild


def identity(text: str) -> str:
    return text


def head_tail(text: str, budget_chars: int) -> str:
    """Whole lines from the head and the tail, half the character budget each, in original order."""
    lines = text.splitlines(keepends=True)
    if sum(len(ln) for ln in lines) <= budget_chars:
        return text
    half = budget_chars / 2
    head, used = [], 0
    for ln in lines:
        if used + len(ln) > half:
            break
        head.append(ln)
        used += len(ln)
    tail, used = [], 0
    for ln in reversed(lines[len(head):]):
        if used + len(ln) > half:
            break
        tail.append(ln)
        used += len(ln)
    return "".join(head + tail[::-1])


def regex_only(seg: Segmented, must: list[bool]) -> str:
    return rebuild(seg, must)


def random_override(seg: Segmented, must: list[bool], rate: float, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    keep = rng.random(len(seg.words)) < rate
    return rebuild(seg, (keep | np.asarray(must, dtype=bool)).tolist())

"""Baselines a user would otherwise pick, run on the same texts as the model. Each returns per-word
keep decisions, so every baseline gets the same metrics as the model (F1 included).

- identity: no compression.
- head_tail: first and last whole lines at the model's character budget (what Codex CLI and Claude Code do).
- regex_only: keep only the must-keep words.
- random_override: random words at the model's word keep rate, plus the must-keep override.
"""

from __future__ import annotations

import numpy as np

from whorf.segment import Segmented


def identity(seg: Segmented) -> np.ndarray:
    return np.ones(len(seg.words), dtype=bool)


def head_tail(seg: Segmented, budget_chars: int) -> np.ndarray:
    """Words of whole lines from the head and the tail, half the character budget each (a line costs
    its length with its line ending); every word when the text fits the budget."""
    keep_lines = head_tail_lines(seg, budget_chars)
    return np.array([keep_lines[w.line] for w in seg.words], dtype=bool)


def head_tail_lines(seg: Segmented, budget_chars: int) -> np.ndarray:
    """Which lines :func:`head_tail` keeps."""
    sizes = [line.end - line.start + len(line.ending) for line in seg.lines]
    keep_lines = np.zeros(len(sizes), dtype=bool)
    if sum(sizes) <= budget_chars:
        keep_lines[:] = True
    else:
        half = budget_chars / 2
        used, head = 0, 0
        while head < len(sizes) and used + sizes[head] <= half:
            used += sizes[head]
            head += 1
        keep_lines[:head] = True
        used, tail = 0, len(sizes)
        while tail > head and used + sizes[tail - 1] <= half:
            used += sizes[tail - 1]
            tail -= 1
        keep_lines[tail:] = True
    return keep_lines


def head_tail_text(text: str, budget_chars: int) -> str:
    """The head+tail baseline as the text an agent would read: the whole lines :func:`head_tail` keeps."""
    from whorf.segment import segment

    seg = segment(text)
    keep = head_tail_lines(seg, budget_chars)
    return "".join(text[ln.start:ln.end] + ln.ending for ln, k in zip(seg.lines, keep) if k)


def regex_only(must: np.ndarray) -> np.ndarray:
    return np.asarray(must, dtype=bool).copy()


def random_override(must: np.ndarray, rate: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    must = np.asarray(must, dtype=bool)
    return (rng.random(len(must)) < rate) | must

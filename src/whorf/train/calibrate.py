"""Per-domain threshold calibration: each domain gets the threshold bias that keeps its held-out
keep_rate (tokens, with the override) within a target.

For every detected domain the lowest threshold whose mean keep_rate is at most ``target`` is chosen:
keep as much as the budget allows (meaning and model-alone must-keep survival improve with every word
kept), never more. By default a threshold is only ever lowered: a domain the model already keeps within
budget, or whose must-keep words alone exceed it, keeps the trained threshold. The result is stored as
``domain_bias`` (threshold = model threshold + bias).
"""

from __future__ import annotations

import numpy as np

from whorf.decide import decide
from whorf.phrases import chunk

GRID = tuple(round(x, 2) for x in np.arange(0.05, 0.951, 0.05))
MIN_ROWS = 5


def calibrate(compressor, texts: list[str], target: float, grid: tuple[float, ...] = GRID,
              allow_raise: bool = False) -> dict[str, float]:
    """Per-domain bias; by default only lowers thresholds (keeps more where a domain is over-compressed),
    never compresses a domain harder than the trained model does."""
    results = compressor.words_alone(texts)
    count = compressor.scorer.tokens.count
    by_domain: dict[str, list] = {}
    for res in results:
        if res.stats.passthrough or not res.words:
            continue
        words = [w.text for w in res.words]
        scores = np.array([w.score for w in res.words], dtype=np.float32)
        must = np.array([w.must_keep for w in res.words])
        by_domain.setdefault(res.stats.domain, []).append((words, scores, must, max(count(words), 1), chunk(res.words)))
    base = compressor.config.threshold
    bias: dict[str, float] = {}
    for domain, rows in sorted(by_domain.items()):
        if len(rows) < MIN_ROWS:
            continue
        chosen = grid[-1]
        for t in grid:
            rates = [count([w for w, k in zip(words, decide(s, m, threshold=t, phrases=p)) if k]) / n
                     for words, s, m, n, p in rows]
            if float(np.mean(rates)) <= target:
                chosen = t
                break
        delta = round(float(chosen) - base, 4)
        if delta < 0 or allow_raise:
            bias[domain] = delta
    return bias

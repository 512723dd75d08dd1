"""Held-out evaluation of a model on labelled rows: word F1 and the task metrics, with and without
the must-keep override, from one scoring pass."""

from __future__ import annotations

import numpy as np

from whorf import model as modeling
from whorf.eval import metrics
from whorf.segment import rebuild, segment


def evaluate_rows(loaded: modeling.Loaded, items: list, bf16: bool = False, threshold: float | None = None) -> dict:
    """Mean metrics over ``items`` (LabelledRow) at the model's threshold (or ``threshold``)."""
    from whorf.compressor import Compressor

    comp = Compressor(loaded, runtime="torch-bf16" if bf16 else "torch")
    results = comp.compress_batch([it.row.text for it in items], override=False, threshold=threshold)  # domain bias applies
    count = comp.scorer.tokens.count
    rows = []
    for it, res in zip(items, results):
        if res.stats.passthrough:
            continue
        seg = segment(it.row.text)
        plain = [w.kept for w in res.words]
        forced = [w.kept or w.must_keep for w in res.words]
        with_override = rebuild(seg, forced)
        rows.append({
            "f1": metrics.word_f1(plain, it.labels.keep)["f1"],
            "keep_rate": res.stats.keep_rate,
            "keep_rate_override": count([w.text for w in res.words if w.kept or w.must_keep]) / max(res.stats.tokens_in, 1),
            "word_keep_rate": res.stats.word_keep_rate,
            "label_keep_rate": it.labels.keep_rate,
            "exact_keep_pct_model": metrics.exact_keep_pct(it.row.text, res.text),
            "exact_keep_pct": metrics.exact_keep_pct(it.row.text, with_override),
        })
    if not rows:
        return {}
    out = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    out["override_delta"] = out["exact_keep_pct"] - out["exact_keep_pct_model"]
    out["rows"] = len(rows)
    return out

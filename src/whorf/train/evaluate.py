"""Evaluation of a model during and after training, on labelled rows (validation rows each epoch,
held-out rows once at the end): the loss, word F1 and the task metrics of the model alone, from one
scoring pass. With the must-keep override exact_keep_pct is 1.0 by construction; it is recorded as
``exact_keep_pct_override`` only to give ``override_delta``."""

from __future__ import annotations

import numpy as np
import torch

from whorf import model as modeling
from whorf.data.labelled import LabelledRow
from whorf.eval import metrics
from whorf.segment import rebuild, segment
from whorf.train.batching import batches, collate, loss_fn
from whorf.train.examples import Example


def loss(net: modeling.DualHead, examples: list[Example], batch_size: int, pad: int, span_weight: float, bf16: bool) -> float:
    """Mean loss over ``examples`` (NaN when there are none)."""
    losses = []
    net.eval()
    with torch.inference_mode():
        for idx in batches(examples, batch_size, 0):
            batch = collate([examples[i] for i in idx], pad)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                output = net(batch["ids"], batch["mask"])
            losses.append(float(loss_fn(output, batch["labels"], batch["weights"], span_weight)))
    return float(np.mean(losses)) if losses else float("nan")


def evaluate_rows(loaded: modeling.Loaded, items: list[LabelledRow], bf16: bool = False, threshold: float | None = None) -> dict:
    """Mean metrics over ``items`` at the model's threshold (or ``threshold``), per-domain bias applied."""
    from whorf.compressor import Compressor

    comp = Compressor(loaded, runtime="torch-bf16" if bf16 else "torch")
    results = comp.words_alone([it.row.text for it in items], threshold=threshold)
    count = comp.scorer.tokens.count
    rows = []
    for it, res in zip(items, results):
        if res.stats.passthrough:
            continue
        forced = [w.kept or w.must_keep for w in res.words]
        with_override = rebuild(it.seg or segment(it.row.text), forced)
        rows.append({
            "f1": metrics.word_f1([w.kept for w in res.words], it.labels.keep)["f1"],
            "keep_rate": metrics.keep_rate(count, [w.text for w in res.words if w.kept], res.stats.tokens_in),
            "keep_rate_override": metrics.keep_rate(count, [w.text for w, k in zip(res.words, forced) if k], res.stats.tokens_in),
            "word_keep_rate": res.stats.word_keep_rate,
            "label_keep_rate": it.labels.keep_rate,
            "exact_keep_pct_model": metrics.exact_keep_pct(it.row.text, res.text),
            "exact_keep_pct_word_model": metrics.exact_keep_pct_word(it.row.text, res.text),
            "exact_keep_pct_override": metrics.exact_keep_pct(it.row.text, with_override),
        })
    if not rows:
        return {}
    out = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    out["override_delta"] = metrics.override_delta(out["exact_keep_pct_override"], out["exact_keep_pct_model"])
    out["rows"] = len(rows)
    return out

"""``whorf eval``: the model with and without the override against the baselines, on the same texts.

The model scores each text once; every threshold or rate of the sweep is decided from those word
scores, so the trade-off curves cost no extra model passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whorf import data as datasets
from whorf.eval.config import EvalConfig
from whorf.data.labels import aligned_rule, label
from whorf.decide import decide
from whorf.phrases import chunk as phrase_ids
from whorf.eval import baselines, metrics
from whorf.segment import rebuild, segment

SWEEP = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MODEL, MODEL_ALONE = "whorf", "whorf (no override)"
HEAD_TAIL, REGEX, RANDOM, IDENTITY = "head+tail lines", "must-keep regex only", "random + override", "identity"
METRICS = ("keep_rate", "word_keep_rate", "exact_keep_pct_word", "exact_keep_pct", "sem_sim", "f1", "ref_recall")


@dataclass
class Scored:
    row: datasets.Row
    seg: object
    scores: np.ndarray
    must: np.ndarray
    domain: str
    labels: list[int] | None
    tokens: int  # backbone tokens of the original (the compressor's tokens_in)
    bias: float = 0.0  # the model's per-domain threshold bias
    phrases: np.ndarray | None = None  # the phrase of each word (whorf.phrases.chunk): decisions are per phrase
    reference_words: np.ndarray | None = None  # the words the reference aligns to (no must-keep, no phrases)


def run(cfg: EvalConfig, comp=None, progress=None) -> dict:
    from whorf.gate import open_compressor

    comp = comp or open_compressor(cfg.model, cfg.runtime)
    embed = metrics.embedder(cfg.embedder)
    report = {"model": comp.model_id, "model_trained": comp.config.trained, "runtime": comp.runtime.name,
              "mode": {"rate": cfg.rate, "threshold": cfg.threshold if cfg.threshold is not None else comp.config.threshold},
              "datasets": []}
    for path in [*cfg.data, *cfg.heretic]:
        report["datasets"].append(evaluate_file(path, cfg, comp, embed, heretic=path in cfg.heretic))
        if progress:
            progress(path)
    if cfg.gate:
        report["gate"] = speed_gate(cfg, comp)
    return report


def speed_gate(cfg: EvalConfig, comp) -> dict:
    """The speed gate (``whorf.gate``) on the rows this evaluation scored: the ``cfg.gate``
    runtime's model-alone decisions against the fp32 torch model's."""
    from dataclasses import asdict

    from whorf import model as modeling
    from whorf.gate import gate

    texts = [r.text for path in cfg.data for r in _rows(path, cfg)[0]][: cfg.gate_rows]
    reference = modeling.Loaded(comp.model, comp.tokenizer, comp.config) if comp.runtime.name.startswith("torch") else None
    result = gate(cfg.model, texts, runtime=cfg.gate, reference_loaded=reference)
    return {**asdict(result), "line": result.line()}


def _rows(path: str, cfg: EvalConfig, heretic: bool = False) -> tuple[list[datasets.Row], datasets.FileReport, bool]:
    """The rows of ``path`` this evaluation uses: its split (heretic sets whole), at most ``limit``."""
    rows, file_report = datasets.read(path)
    heretic = heretic or datasets.is_heretic(path, rows)
    if cfg.split != "all" and not heretic:  # heretic sets are evaluation-only: always whole
        rows = [r for r in rows if r.split() == cfg.split]
    return (rows[: cfg.limit] if cfg.limit else rows), file_report, heretic


def _score_rows(comp, rows: list[datasets.Row], rule: str) -> tuple[list[Scored], list[dict]]:
    scored: list[Scored] = []
    failed: list[dict] = []
    # the word model on every word; the structural stage has its own evaluation (bench/corpus/eval_structure.py)
    for start in range(0, len(rows), 16):
        chunk = rows[start:start + 16]
        try:
            results = comp.words_alone([r.text for r in chunk])
        except Exception:  # noqa: BLE001 - find the row that fails, keep the rest
            results = []
            for r in chunk:
                try:
                    results.append(comp.words_alone([r.text])[0])
                except Exception as exc:  # noqa: BLE001
                    results.append(exc)
        for row, res in zip(chunk, results):
            if isinstance(res, Exception):
                failed.append({"line": row.line, "reason": f"{type(res).__name__}: {res}"})
                continue
            if res.stats.passthrough:
                failed.append({"line": row.line, "reason": f"passthrough: {res.stats.passthrough}"})
                continue
            seg = segment(row.text)
            labels = None
            if row.kind != "unlabelled":
                labels = label(seg, reference=row.reference, spans=row.spans, word_labels=row.word_labels, rule=rule).keep
            scored.append(Scored(row, seg, np.array([w.score for w in res.words], dtype=np.float32),
                                 np.array([w.must_keep for w in res.words]), res.stats.domain, labels,
                                 max(res.stats.tokens_in, 1), comp.config.domain_bias.get(res.stats.domain, 0.0),
                                 phrase_ids(seg.words), _reference_words(seg, row.reference)))
    return scored, failed


def _reference_words(seg, reference: str | None) -> np.ndarray | None:
    if not reference:
        return None
    return np.array(aligned_rule(seg, reference, [False] * len(seg.words)), dtype=bool)


def _ref_recall(keep: np.ndarray, s: Scored) -> float | None:
    """Of the text's words the reference has (aligned in order), the share kept."""
    if s.reference_words is None or not s.reference_words.any():
        return None
    return float((keep & s.reference_words).sum() / s.reference_words.sum())


def _keep_rate(s: Scored, text: str, count) -> float:
    return metrics.keep_rate(count, text.split(), s.tokens)


def _decisions(s: Scored, threshold: float, rate: float | None, override: bool) -> np.ndarray:
    return decide(s.scores, s.must, threshold=threshold + s.bias, rate=rate, override=override, phrases=s.phrases)


def evaluate_file(path: str, cfg: EvalConfig, comp, embed, heretic: bool = False) -> dict:
    rows, file_report, heretic = _rows(path, cfg, heretic)
    scored, failed = _score_rows(comp, rows, cfg.label_rule)
    threshold = cfg.threshold if cfg.threshold is not None else comp.config.threshold
    count = comp.scorer.tokens.count

    def system(decisions: list[np.ndarray], texts: list[str] | None = None) -> dict:
        """The same metrics for every system, from its per-word decisions (and its text, when the
        system writes text other than the rebuilt kept words, as identity does)."""
        texts = texts or [rebuild(s.seg, d.tolist()) for s, d in zip(scored, decisions)]
        originals = [s.row.text for s in scored]
        f1 = [metrics.word_f1(d, s.labels)["f1"] for s, d in zip(scored, decisions) if s.labels is not None]
        recall = [r for r in (_ref_recall(d, s) for s, d in zip(scored, decisions)) if r is not None]
        return {
            "keep_rate": _mean([metrics.keep_rate(count, t.split(), s.tokens) for s, t in zip(scored, texts)]),
            "word_keep_rate": _mean([metrics.word_keep_rate(o, t) for o, t in zip(originals, texts)]),
            "exact_keep_pct_word": _mean([metrics.exact_keep_pct_word(o, t) for o, t in zip(originals, texts)]),
            "exact_keep_pct": _mean([metrics.exact_keep_pct(o, t) for o, t in zip(originals, texts)]),
            "sem_sim": _mean(embed.sem_sim(originals, texts)) if texts else None,
            "f1": _mean(f1) if f1 else None,
            "ref_recall": _mean(recall) if recall else None,  # of the words the reference keeps
        }

    result: dict = {"name": Path(path).stem, "path": str(path), "type": "heretic" if heretic else "standard",
                    "rows_total": file_report.lines, "rows_scored": len(scored),
                    "skipped": [{"line": n, "reason": r} for n, r in file_report.skipped] + failed}
    refs = [metrics.mk_in_ref(s.row.text, s.row.reference) for s in scored if s.row.reference]
    result["mk_in_ref"] = _mean(refs) if refs else None
    if not scored:
        result["systems"] = {}
        return result
    with_o = [_decisions(s, threshold, cfg.rate, True) for s in scored]
    without = [_decisions(s, threshold, cfg.rate, False) for s in scored]
    texts_o = [rebuild(s.seg, d.tolist()) for s, d in zip(scored, with_o)]
    texts_n = [rebuild(s.seg, d.tolist()) for s, d in zip(scored, without)]
    systems = {MODEL_ALONE: system(without, texts_n), MODEL: system(with_o, texts_o)}
    result["override_delta"] = metrics.override_delta(systems[MODEL]["exact_keep_pct"], systems[MODEL_ALONE]["exact_keep_pct"])
    if cfg.baselines:
        systems[IDENTITY] = system([baselines.identity(s.seg) for s in scored], [s.row.text for s in scored])
        systems[HEAD_TAIL] = system([baselines.head_tail(s.seg, len(t)) for s, t in zip(scored, texts_o)])
        systems[REGEX] = system([baselines.regex_only(s.must) for s in scored])
        systems[RANDOM] = system([baselines.random_override(s.must, float(d.mean()) if len(d) else 1.0, seed=i)
                                  for i, (s, d) in enumerate(zip(scored, without))])
    result["systems"] = systems
    result["domains"] = _by_domain(scored, texts_n, count)  # the model alone: with the override exact is 1.0
    if cfg.curve_rows:
        result["curves"] = _curves(scored[: cfg.curve_rows], cfg, embed, count)
    if heretic:
        result["prompts"] = _prompts(scored, texts_o, texts_n, embed, count)
    return result


def _by_domain(scored: list[Scored], texts: list[str], count) -> dict:
    out: dict = {}
    for s, t in zip(scored, texts):
        d = out.setdefault(s.domain, {"rows": 0, "keep_rate": [], "exact_keep_pct_word": []})
        d["rows"] += 1
        d["keep_rate"].append(_keep_rate(s, t, count))
        d["exact_keep_pct_word"].append(metrics.exact_keep_pct_word(s.row.text, t))
    return {k: {"rows": v["rows"], "keep_rate": _mean(v["keep_rate"]), "exact_keep_pct_word": _mean(v["exact_keep_pct_word"])}
            for k, v in sorted(out.items())}


def _curves(scored: list[Scored], cfg: EvalConfig, embed, count) -> dict:
    """keep_rate vs exact_keep_pct and sem_sim, sweeping the threshold (or the rate in rate mode)."""
    originals = [s.row.text for s in scored]

    def point(x: float, texts: list[str]) -> dict:
        return {"x": x,
                "keep_rate": _mean([_keep_rate(s, t, count) for s, t in zip(scored, texts)]),
                "exact_keep_pct": _mean([metrics.exact_keep_pct(o, t) for o, t in zip(originals, texts)]),
                "exact_keep_pct_word": _mean([metrics.exact_keep_pct_word(o, t) for o, t in zip(originals, texts)]),
                "sem_sim": _mean(embed.sem_sim(originals, texts))}

    curves: dict = {MODEL: [], MODEL_ALONE: [], HEAD_TAIL: [], RANDOM: []}
    for x in SWEEP:
        rate = (1 - x) if cfg.rate is not None else None
        for name, override in ((MODEL, True), (MODEL_ALONE, False)):
            texts = [rebuild(s.seg, _decisions(s, x, rate, override).tolist()) for s in scored]
            curves[name].append(point(x, texts))
        keep = 1 - x
        curves[HEAD_TAIL].append(point(x, [rebuild(s.seg, baselines.head_tail(s.seg, int(len(s.row.text) * keep)).tolist())
                                           for s in scored]))
        curves[RANDOM].append(point(x, [rebuild(s.seg, baselines.random_override(s.must, keep, seed=i).tolist())
                                        for i, s in enumerate(scored)]))
    return curves


def _prompts(scored, texts_o, texts_n, embed, count) -> list[dict]:
    sims = embed.sem_sim([s.row.text for s in scored], texts_o)
    out = []
    for s, to, tn, sim in zip(scored, texts_o, texts_n, sims):
        out.append({
            "prompt": (s.row.prompt or s.row.text[:60]).strip(),
            "exact_keep_pct": metrics.exact_keep_pct(s.row.text, to),
            "exact_keep_pct_model": metrics.exact_keep_pct(s.row.text, tn),
            "exact_keep_pct_word_model": metrics.exact_keep_pct_word(s.row.text, tn),
            "keep_rate": _keep_rate(s, to, count),
            "sem_sim": sim,
        })
    return out


def _mean(values) -> float:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else float("nan")

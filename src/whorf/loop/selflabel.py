"""Iterative self-labeling: the model, with its must-keep override, labels the training texts again.

    v_n + override -> compress training texts -> references -> train v_{n+1} -> evaluate

Converged when override_delta stays 0 and mk_in_ref improves by less than a tolerance; the best
generation is selected by the evaluation (the last is not always the best) and linked as ``DIR/best``.
A killed loop resumes at the generation it was in (``loop.json`` records finished generations; the
trainer resumes its own checkpoint).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import numpy as np

from whorf import data as datasets
from whorf.eval.metrics import mk_in_ref
from whorf.loop.config import LoopConfig
from whorf.train.trainer import TrainConfig, train


def rejected(text: str, reference: str, passthrough: str | None, min_chars: int, min_ratio: float) -> str | None:
    """Why a self-label is not kept as training data (None: kept): the text passed through, is shorter than
    ``min_chars``, or its compression kept more than 1 / ``min_ratio`` of its characters."""
    if passthrough:
        return f"passed through ({passthrough})"
    if len(text) < min_chars:
        return f"shorter than {min_chars} characters"
    if not reference.strip():
        return "compressed to nothing"
    if len(text) / len(reference) < min_ratio:
        return f"compressed less than {min_ratio}x"
    return None


def self_label(model: str, rows: list[datasets.Row], out: Path, cfg: LoopConfig) -> dict:
    """Compress ``rows`` with ``model`` + override and write the kept pairs as training data."""
    from whorf.compressor import Compressor

    comp = Compressor(model)
    kept, dropped, refs = 0, 0, []
    with out.open("w") as f:
        for start in range(0, len(rows), 64):
            chunk = rows[start:start + 64]
            for row, res in zip(chunk, comp.compress_batch([r.text for r in chunk], override=True, structure=False, store=False)):
                ref = res.text
                if rejected(row.text, ref, res.stats.passthrough, cfg.min_chars, cfg.min_ratio):
                    dropped += 1
                    continue
                kept += 1
                refs.append(mk_in_ref(row.text, ref))
                f.write(json.dumps({"text": row.text, "reference": ref, "domain": row.domain, "source": "selflabel",
                                    "origin": row.source}) + "\n")
    return {"pairs": kept, "filtered_out": dropped, "mk_in_ref": float(np.mean(refs)) if refs else float("nan")}


def evaluate(model: str, cfg: LoopConfig) -> dict:
    return measure(model, cfg.eval_data, cfg.eval_rows)


def measure(model: str, eval_data: list[str], eval_rows: int) -> dict:
    """The task metrics of ``model`` on the held-out split of ``eval_data`` (heretic files whole), at most
    ``eval_rows`` rows per file: exact_keep_pct with the override and of the model alone, keep rate, sem_sim."""
    from whorf.eval.runner import MODEL, MODEL_ALONE, EvalConfig, run

    rest, heretic = datasets.split_heretic(eval_data)
    report = run(EvalConfig(data=rest, heretic=heretic, model=model, baselines=False, split="held-out",
                            limit=eval_rows, curve_rows=0))
    sets = [d for d in report["datasets"] if d.get("systems")]
    pick = lambda system, metric: float(np.mean([d["systems"][system][metric] for d in sets]))  # noqa: E731
    prompts = {p["prompt"]: p["exact_keep_pct_model"] for d in sets for p in d.get("prompts", [])}
    return {
        "exact_keep_pct": pick(MODEL, "exact_keep_pct"),
        "exact_keep_pct_model": pick(MODEL_ALONE, "exact_keep_pct"),
        "exact_keep_pct_word_model": pick(MODEL_ALONE, "exact_keep_pct_word"),
        "override_delta": float(np.mean([d["override_delta"] for d in sets])),
        "keep_rate": pick(MODEL, "keep_rate"),
        "sem_sim": pick(MODEL, "sem_sim"),
        "per_dataset": {d["name"]: {"exact_keep_pct_model": d["systems"][MODEL_ALONE]["exact_keep_pct"],
                                    "keep_rate": d["systems"][MODEL]["keep_rate"]} for d in sets},
        "prompts": prompts,
    }


def selection_score(g: dict) -> float:
    """Best generation: the model alone keeps must-keep words, then meaning, then compression."""
    e = g["eval"]
    return e["exact_keep_pct_model"] + 0.5 * e["sem_sim"] - 0.25 * e["keep_rate"]


def converged(history: list[dict], tolerance: float) -> bool:
    if len(history) < 3:  # generation 0 plus two trained generations
        return False
    last, prev = history[-1], history[-2]
    delta_zero = all(abs(g["eval"]["override_delta"]) < 1e-3 for g in history[-2:])
    gain = last["labels"]["mk_in_ref"] - prev["labels"]["mk_in_ref"] if prev.get("labels") else float("inf")
    return delta_zero and gain < tolerance


def run_loop(cfg: LoopConfig, log: Callable[[str], None] = print) -> dict:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    state_file = out / "loop.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {"config": _jsonable(cfg), "generations": []}
    history: list[dict] = state["generations"]
    rows, _ = datasets.read_all(cfg.data)
    if cfg.max_rows_per_file:
        rows = datasets.cap_per_file(rows, cfg.max_rows_per_file)
    train_rows = [r for r in rows if not r.held_out()]
    base = cfg.train or TrainConfig(data=[], out="")
    if not history:
        log("=== generation 0: evaluating the start model ===")
        t = time.time()
        history.append({"generation": 0, "model": cfg.start, "labels": None, "eval": evaluate(cfg.start, cfg),
                        "wall_seconds": round(time.time() - t, 1)})
        _save(state, out)
    while len(history) <= cfg.generations and not state.get("converged"):
        g = len(history)
        prev = history[-1]
        gen_dir = out / f"gen{g}"
        gen_dir.mkdir(exist_ok=True)
        log(f"=== generation {g}: labels from generation {g - 1} + override ===")
        t = time.time()
        labels_file = gen_dir / "labels.jsonl"
        stats_file = gen_dir / "labels.json"
        if not stats_file.is_file():
            stats = self_label(prev["model"], train_rows, labels_file, cfg)
            stats_file.write_text(json.dumps(stats))
        stats = json.loads(stats_file.read_text())
        log(f"self-labels: {stats['pairs']} pairs ({stats['filtered_out']} filtered), mk_in_ref {stats['mk_in_ref']:.3f}")
        model_dir = gen_dir / "model"
        if not (model_dir / "whorf.json").is_file():
            train(replace(base, data=[str(labels_file)], out=str(model_dir), name=f"{Path(cfg.out).name}-gen{g}"))
        evaluation = evaluate(str(model_dir), cfg)
        record = {"generation": g, "model": str(model_dir), "labels": stats, "eval": evaluation,
                  "source": f"generation {g - 1} + override", "wall_seconds": round(time.time() - t, 1)}
        record["regressions"] = [
            {"prompt": p, "old": prev["eval"]["prompts"][p], "new": v}
            for p, v in evaluation["prompts"].items() if p in prev["eval"]["prompts"] and prev["eval"]["prompts"][p] - v > 0.02
        ]
        history.append(record)
        state["converged"] = converged(history, cfg.tolerance)
        _save(state, out)
        log(f"generation {g}: exact (model alone) {evaluation['exact_keep_pct_model']:.3f}, override_delta "
            f"{evaluation['override_delta']:.3f}, keep_rate {evaluation['keep_rate']:.3f}, sem_sim {evaluation['sem_sim']:.3f}")
    best = max(history, key=selection_score)
    state["best"] = best["generation"]
    link = out / "best"
    if link.is_symlink() or link.exists():
        link.unlink()
    if best["generation"] > 0:
        link.symlink_to(Path(best["model"]).resolve(), target_is_directory=True)
    _save(state, out)
    from whorf.loop.table import write_table

    write_table(state, out)
    return state


def _jsonable(cfg: LoopConfig) -> dict:
    raw = asdict(cfg)
    return json.loads(json.dumps(raw, default=str))


def _save(state: dict, out: Path) -> None:
    tmp = out / "loop.json.tmp"
    tmp.write_text(json.dumps(state, indent=2, default=float))
    tmp.replace(out / "loop.json")

"""Reports: ``report.json``, ``report.md`` (one table per dataset, one row per system) and the
regression gate that compares a report with an older one."""

from __future__ import annotations

import json
import math
from pathlib import Path

from whorf.eval.runner import METRICS, MODEL, MODEL_ALONE

PROMPT_DROP = 0.02  # a heretic prompt regresses when its exact_keep_pct falls by more than this
METRIC_TOLERANCE = 0.01  # a dataset metric regresses when it moves the wrong way by more than this
HIGHER_IS_BETTER = {"exact_keep_pct": True, "exact_keep_pct_word": True, "sem_sim": True, "f1": True, "keep_rate": False,
                    "ref_recall": True}
COLUMNS = {"keep_rate": "keep_rate", "word_keep_rate": "word keep", "exact_keep_pct_word": "exact (word)",
           "exact_keep_pct": "exact (substring, seed)", "sem_sim": "sem_sim", "f1": "F1",
           "ref_recall": "reference-word recall"}
BY_CONSTRUCTION = ("With the must-keep override (`whorf`) every must-keep word is forced in, so its exact_keep_pct "
                   "is 1.0 by construction and measures nothing; the model's own figure is `whorf (no override)`. "
                   "`exact (word)` counts a must-keep word only when the whole word survives; `exact (substring, seed)` "
                   "is the seed's metric, which also counts a match found inside another word.")


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def to_markdown(report: dict, regressions: list[dict] | None = None) -> str:
    lines = [f"# whorf evaluation: {report['model']}", ""]
    if not report.get("model_trained", True):
        lines += ["**The model is untrained: its figures are not meaningful.**", ""]
    mode = report["mode"]
    lines += [f"Runtime `{report['runtime']}`, " + (f"rate {mode['rate']}" if mode["rate"] else f"threshold {mode['threshold']}"), ""]
    for ds in report["datasets"]:
        lines += [f"## {ds['name']} ({ds['type']})", "",
                  f"{ds['rows_scored']} of {ds['rows_total']} rows scored; {len(ds['skipped'])} skipped. "
                  f"mk_in_ref {_fmt(ds.get('mk_in_ref'))}, override_delta {_fmt(ds.get('override_delta'))}.", ""]
        if ds.get("systems"):
            lines += _headline(ds) + _system_table(ds["systems"])
        if ds.get("domains"):
            lines += ["Per domain, the model alone:", "", "| domain | rows | keep_rate | exact (word) |", "|---|---|---|---|"]
            lines += [f"| {d} | {v['rows']} | {_fmt(v['keep_rate'])} | {_fmt(v['exact_keep_pct_word'])} |" for d, v in ds["domains"].items()]
            lines.append("")
        if ds.get("prompts"):
            lines += ["| prompt | exact, model alone (word) | exact, model alone (substring) | keep_rate | sem_sim |", "|---|---|---|---|---|"]
            lines += [f"| {p['prompt'][:70]} | {_fmt(p.get('exact_keep_pct_word_model'))} | {_fmt(p['exact_keep_pct_model'])} "
                      f"| {_fmt(p['keep_rate'])} | {_fmt(p['sem_sim'])} |" for p in ds["prompts"]]
            lines.append("")
        for plot in ds.get("plots", []):
            lines += [f"![{plot}]({plot})", ""]
    if report.get("gate"):
        lines += ["## Speed gate", "", report["gate"]["line"], ""]
    if regressions is not None:
        lines += ["## Regressions against the previous report", ""]
        lines += [f"- {r['what']}: {_fmt(r['old'])} -> {_fmt(r['new'])}" for r in regressions] or ["None."]
        lines.append("")
    return "\n".join(lines)


def _headline(ds: dict) -> list[str]:
    alone = ds["systems"][MODEL_ALONE]
    return [f"**whorf alone: exact_keep_pct {_fmt(alone['exact_keep_pct_word'])} (whole words; seed substring metric "
            f"{_fmt(alone['exact_keep_pct'])}), keep_rate {_fmt(alone['keep_rate'])}, sem_sim {_fmt(alone['sem_sim'])}, "
            f"F1 {_fmt(alone.get('f1'))}.** {BY_CONSTRUCTION}", ""]


def _system_table(systems: dict) -> list[str]:
    """One row per system, every metric in every row (the baselines' wins included)."""
    lines = ["| system | " + " | ".join(COLUMNS[m] for m in METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
    for name, m in systems.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(m.get(k)) for k in METRICS) + " |")
    return lines + [""]


def compare(new: dict, old: dict) -> list[dict]:
    """Regressions of ``new`` against ``old``.

    Flags every heretic prompt whose exact_keep_pct of the model alone fell by more than 0.02 (with the
    override it is 1.0 by construction, so it could never fall), and every dataset metric that moved
    the wrong way by more than the tolerance: keep_rate, sem_sim and F1 of the model with the override,
    exact_keep_pct of the model alone.
    """
    checks = [(MODEL, "keep_rate"), (MODEL, "sem_sim"), (MODEL, "f1"), (MODEL_ALONE, "exact_keep_pct"),
              (MODEL_ALONE, "exact_keep_pct_word")]
    out: list[dict] = []
    old_sets = {d["name"]: d for d in old.get("datasets", [])}
    for ds in new.get("datasets", []):
        before = old_sets.get(ds["name"])
        if not before:
            continue
        for system, metric in checks:
            a = before.get("systems", {}).get(system, {}).get(metric)
            b = ds.get("systems", {}).get(system, {}).get(metric)
            if a is None or b is None or math.isnan(a) or math.isnan(b):
                continue
            worse = (a - b) if HIGHER_IS_BETTER[metric] else (b - a)
            if worse > METRIC_TOLERANCE:
                out.append({"what": f"{ds['name']}: {metric} ({system})", "old": a, "new": b})
        old_prompts = {p["prompt"]: p for p in before.get("prompts", [])}
        for p in ds.get("prompts", []):
            q = old_prompts.get(p["prompt"])
            if q and q["exact_keep_pct_model"] - p["exact_keep_pct_model"] > PROMPT_DROP:
                out.append({"what": f"{ds['name']}: prompt '{p['prompt'][:60]}' exact_keep_pct (model alone)",
                            "old": q["exact_keep_pct_model"], "new": p["exact_keep_pct_model"]})
    return out


def write(report: dict, directory: str | Path, regressions: list[dict] | None = None, plots: bool = True) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if plots:
        from whorf.eval.plots import plot_report

        plot_report(report, directory)
    if regressions is not None:
        report["regressions"] = regressions
    (directory / "report.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    (directory / "report.md").write_text(to_markdown(report, regressions))
    return directory

"""``whorf eval``: task metrics against baselines, reports with plots, and the regression gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from whorf.eval.config import EvalConfig
from whorf.cli.app import UserError, app, err, handle_errors, require_files


@app.command("eval")
@handle_errors
def evaluate(
    data: List[Path] = typer.Option([], "--data", "-d", help="Datasets: any format the training loaders accept (text-only rows get label-free metrics)."),
    heretic: List[Path] = typer.Option([], "--heretic", help="Heretic datasets (dense must-keep); files named *heretic* are detected too."),
    model: str = typer.Option(EvalConfig.model, "--model", "-m", help="Model name or directory (default: the shipped default)."),
    rate: Optional[float] = typer.Option(None, "--rate", help="Evaluate in rate mode at this keep rate."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Evaluate at this threshold (default: the model's)."),
    baselines: bool = typer.Option(EvalConfig.baselines, "--baselines/--no-baselines", help="Also run identity, head+tail, regex-only and random+override."),
    report: Optional[Path] = typer.Option(None, "--report", help="Directory for report.json, report.md and PNG plots."),
    split: str = typer.Option(EvalConfig.split, "--split", help="all, held-out (the fixed 10% split by text hash that training never sees or chooses with) or validation."),
    limit: Optional[int] = typer.Option(None, "--limit", help="At most this many rows per dataset."),
    runtime: str = typer.Option(EvalConfig.runtime, "--runtime"),
    embedder: Optional[str] = typer.Option(None, "--embedder", help="sentence-transformers model dir for sem_sim (default: offline all-MiniLM-L6-v2)."),
    curve_rows: int = typer.Option(EvalConfig.curve_rows, "--curve-rows", help="Rows per dataset for the trade-off curves (0: no curves)."),
    compare: Optional[Path] = typer.Option(None, "--compare", help="An older report.json to flag regressions against."),
    fail_on_regression: bool = typer.Option(False, "--fail-on-regression", help="Exit with code 3 when --compare finds a regression."),
    gate: Optional[str] = typer.Option(None, "--gate", help="Also hold this faster runtime (e.g. onnx-int8) to the fp32 model's decisions; exit 4 when it fails."),
) -> None:
    """Evaluate a model: exact_keep_pct, keep_rate, sem_sim, F1, with and without the override, vs baselines."""
    from whorf.eval import report as reports
    from whorf.eval.runner import MODEL_ALONE, run

    if not data and not heretic:
        raise UserError("give at least one --data or --heretic file")
    if split not in ("all", "held-out", "validation"):
        raise UserError("--split must be all, held-out or validation")
    require_files([*data, *heretic])
    old = None
    if compare:
        if not compare.is_file():
            raise UserError(f"report {compare} does not exist")
        old = json.loads(compare.read_text())
    cfg = EvalConfig(data=[str(d) for d in data], heretic=[str(h) for h in heretic], model=model, rate=rate,
                     threshold=threshold, baselines=baselines, split=split, limit=limit, runtime=runtime, embedder=embedder,
                     curve_rows=curve_rows, gate=gate)
    result = run(cfg, progress=lambda p: err.print(f"[dim]evaluated {p}[/]"))
    regressions = reports.compare(result, old) if old else None
    if report:
        reports.write(result, report, regressions)
        err.print(f"wrote {report / 'report.md'}")
    for ds in result["datasets"]:
        m = ds.get("systems", {}).get(MODEL_ALONE)
        if m:
            print(f"{ds['name']}: {ds['rows_scored']}/{ds['rows_total']} rows, model alone: exact_keep_pct "
                  f"{m['exact_keep_pct_word']:.3f} (whole words; seed substring {m['exact_keep_pct']:.3f}), "
                  f"keep_rate {m['keep_rate']:.3f}, sem_sim {m['sem_sim']:.3f} (with the override exact is 1.0 by construction)")
        else:
            print(f"{ds['name']}: no rows scored")
    if result.get("gate"):
        print(result["gate"]["line"])
    if regressions:
        for r in regressions:
            err.print(f"[red]regression[/] {r['what']}: {r['old']:.3f} -> {r['new']:.3f}")
        if fail_on_regression:
            raise typer.Exit(3)
    if result.get("gate") and not result["gate"]["passed"]:
        raise typer.Exit(4)

"""``whorf batch compress|label|selflabel|distill-targets INPUT... OUTPUT``: a thin layer over whorf.batch."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import List, Optional

import typer

from whorf.batch.config import BatchConfig
from whorf.cli.app import UserError, app, err, handle_errors

batch_app = typer.Typer(help="Batch jobs over JSONL/Parquet files, directories of shards or the pair log, on Ray "
                             "(one output row per input row; a re-run resumes from the finished shards).",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(batch_app, name="batch")

PATHS = typer.Argument(..., help="Inputs (JSONL or Parquet files, directories of them, pair-log URLs such as "
                                 "sqlite:///pairs.sqlite or postgresql://...), then the OUTPUT directory.")
WORKERS = typer.Option(BatchConfig.workers, "--workers", "-w", help="Worker actors, one loaded model each.")
THREADS = typer.Option(BatchConfig.threads, "--threads", help="Inference threads per worker (N workers use N x threads cores).")
SHARD_ROWS = typer.Option(BatchConfig.shard_rows, "--shard-rows", help="Rows per output shard (the unit of resuming).")
ADDRESS = typer.Option(None, "--address", help="Join this Ray cluster (auto, host:6379, ray://host:10001) instead of starting a local one.")
LOCAL = typer.Option(False, "--local", help="Run in this process without Ray (same output bytes).")
MODEL = typer.Option(BatchConfig.model, "--model", "-m", help="Model name or directory.")
RUNTIME = typer.Option(BatchConfig.runtime, "--runtime", help="auto (the light int8 ONNX graph when shipped), onnx-int8, onnx, torch.")


def _run(cfg: BatchConfig) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from whorf.batch.run import BatchError, run

    progress = Progress(TextColumn(f"{cfg.operation}"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                        TimeRemainingColumn(), console=err, transient=True)
    task = progress.add_task(cfg.operation, total=None)

    def start(total: int, already: int) -> None:
        progress.update(task, total=total, completed=already)
        if already:
            err.print(f"whorf: resuming: {already} of {total} rows already done", markup=False, highlight=False)

    try:  # stdout carries only the summary: Ray's notices (a worker it restarted) go to stderr
        with progress, contextlib.redirect_stdout(sys.stderr):
            summary = run(cfg, on_shard=lambda d: progress.advance(task, d.rows), on_start=start)
    except BatchError as exc:
        raise UserError(str(exc)) from None
    print(json.dumps({k: summary[k] for k in ("operation", "output", "shards", "rows_in", "rows_out", "passed",
                                              "tokens_in", "tokens_out", "mode", "this_run")}))


def _split(paths: List[str]) -> tuple[list[str], str]:
    if len(paths) < 2:
        raise UserError("give at least one INPUT and the OUTPUT directory")
    return paths[:-1], paths[-1]


@batch_app.command("compress")
@handle_errors
def compress(paths: List[str] = PATHS, workers: int = WORKERS, threads: int = THREADS, shard_rows: int = SHARD_ROWS,
             address: Optional[str] = ADDRESS, local: bool = LOCAL, model: str = MODEL, runtime: str = RUNTIME,
             field: str = typer.Option("auto", "--field", help="The field to compress (auto: text, output or content)."),
             budget: Optional[int] = typer.Option(BatchConfig.budget_tokens, "--budget", help="Tokens over which whole units are dropped behind markers."),
             no_override: bool = typer.Option(False, "--no-override", help="Turn the must-keep override off."),
             no_store: bool = typer.Option(False, "--no-store", help="Do not keep omitted originals in this machine's store.")) -> None:
    """Compress every row (the `whorf compress --jsonl` row contract)."""
    inputs, output = _split(paths)
    _run(BatchConfig("compress", inputs, output, model=model, runtime=runtime, workers=workers, threads=threads,
                     shard_rows=shard_rows, address=address, local=local, field=field, budget_tokens=budget,
                     override=not no_override, store=not no_store))


@batch_app.command("label")
@handle_errors
def label(paths: List[str] = PATHS, workers: int = WORKERS, shard_rows: int = SHARD_ROWS,
          address: Optional[str] = ADDRESS, local: bool = LOCAL,
          rule: str = typer.Option(BatchConfig.rule, "--rule", help="How references become word labels."),
          profile: str = typer.Option(BatchConfig.profile, "--profile", help="Must-keep profile.")) -> None:
    """Silver labels of pairs (text + reference; the pair log's original + compressed), as `whorf label` writes them."""
    inputs, output = _split(paths)
    _run(BatchConfig("label", inputs, output, workers=workers, shard_rows=shard_rows, address=address, local=local,
                     rule=rule, profile=profile))


@batch_app.command("selflabel")
@handle_errors
def selflabel(paths: List[str] = PATHS, workers: int = WORKERS, threads: int = THREADS, shard_rows: int = SHARD_ROWS,
              address: Optional[str] = ADDRESS, local: bool = LOCAL, model: str = MODEL, runtime: str = RUNTIME,
              min_chars: int = typer.Option(BatchConfig.min_chars, "--min-chars"),
              min_ratio: float = typer.Option(BatchConfig.min_ratio, "--min-ratio")) -> None:
    """Self-labels: the model with its override compresses each text into a training pair."""
    inputs, output = _split(paths)
    _run(BatchConfig("selflabel", inputs, output, model=model, runtime=runtime, workers=workers, threads=threads,
                     shard_rows=shard_rows, address=address, local=local, min_chars=min_chars, min_ratio=min_ratio))


@batch_app.command("distill-targets")
@handle_errors
def distill_targets(paths: List[str] = PATHS, workers: int = WORKERS, threads: int = THREADS,
                    shard_rows: int = SHARD_ROWS, address: Optional[str] = ADDRESS, local: bool = LOCAL,
                    model: str = typer.Option("whorf-mini", "--model", "-m", help="The teacher."),
                    runtime: str = RUNTIME) -> None:
    """The teacher alone on every word: its keep decisions (a training file) and final scores."""
    inputs, output = _split(paths)
    _run(BatchConfig("distill-targets", inputs, output, model=model, runtime=runtime, workers=workers,
                     threads=threads, shard_rows=shard_rows, address=address, local=local))

"""``whorf compress``, ``whorf explain`` and ``whorf export-onnx``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from whorf.cli.app import UserError, app, err, handle_errors
from whorf.config import CompressOptions
from whorf.registry import DEFAULT_MODEL
from whorf.domain import check as check_domain
from whorf.jsonl import compress_rows, compress_safely, split_rows
from whorf.textio import json_line

FILE_ARG = typer.Argument("-", help="Input file, or - for standard input.")
MODEL_OPT = typer.Option(DEFAULT_MODEL, "--model", "-m", help="Model name (whorf-micro, whorf-mini, a registered model) or model directory.")
RUNTIME_OPT = typer.Option("auto", "--runtime", help="auto (the shipped int8 ONNX graph when the model has one, else torch), torch, torch-bf16, onnx or onnx-int8.")
RATE_OPT = typer.Option(None, "--rate", help="Keep this fraction of words (top scores first, must-keep words included). Overrides --threshold.")
THRESHOLD_OPT = typer.Option(None, "--threshold", help="Keep words scoring above this (default: the model's, 0.5).")
NO_OVERRIDE_OPT = typer.Option(False, "--no-override", help="Turn off the must-keep override (the model alone decides).")
DOMAIN_OPT = typer.Option(None, "--domain", help="json, diff, diagnostics, search, log, table, code or prose (default: detected).")
QUERY_OPT = typer.Option(None, "--query", "-q", help="What the agent is looking for: over the budget, the rows, matches, lines or function bodies least relevant to it go first (with --jsonl, a row's own 'query' field wins).")
MIN_PROSE_OPT = typer.Option(CompressOptions.min_prose_words, "--min-prose-words", min=0, help="Prose of fewer words passes whole (the gain floor; 0: off).")
MIN_SAVING_OPT = typer.Option(CompressOptions.min_saving_tokens, "--min-saving-tokens", min=0, help="Prose whose deletions would save fewer tokens passes whole (the gain floor; 0: off).")
QUERY_BUDGET_OPT = typer.Option(None, "--query-budget", min=1, help="With a query that names something in the output, this smaller budget replaces --budget.")
BUDGET_OPT = typer.Option(CompressOptions.budget_tokens, "--budget", min=1, help="Tokens (o200k, measured on the text) an output may keep after lossless re-encoding; over it, whole rows, matches, log lines or records go behind markers (code never).")


def read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    if not p.exists():
        raise UserError(f"input file {path} does not exist")
    if p.is_dir():
        raise UserError(f"input {path} is a directory")
    return p.read_bytes()


def make_compressor(model: str, runtime: str):
    from whorf.compressor import Compressor

    comp = Compressor(model, runtime)
    if not comp.config.trained:
        err.print("[yellow]whorf: warning: the model is UNTRAINED (random head); decisions are not meaningful[/]")
    return comp


@app.command()
@handle_errors
def compress(
    file: str = FILE_ARG,
    rate: Optional[float] = RATE_OPT,
    threshold: Optional[float] = THRESHOLD_OPT,
    no_override: bool = NO_OVERRIDE_OPT,
    domain: Optional[str] = DOMAIN_OPT,
    budget: int = BUDGET_OPT,
    query: Optional[str] = QUERY_OPT,
    query_budget: Optional[int] = QUERY_BUDGET_OPT,
    min_prose_words: int = MIN_PROSE_OPT,
    min_saving_tokens: int = MIN_SAVING_OPT,
    model: str = MODEL_OPT,
    runtime: str = RUNTIME_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print the full result (text, per-word decisions and scores, stats) as JSON."),
    stats: bool = typer.Option(False, "--stats", help="Print one line of figures to stderr."),
    jsonl: bool = typer.Option(False, "--jsonl", help="Input is JSONL: add 'compressed' and 'stats' to each object; every row comes out, a row that cannot be compressed unchanged (reason in its stats, or on stderr)."),
    field: str = typer.Option("auto", "--field", help="With --jsonl: the field to compress (auto: text, output or content)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
    batch: int = typer.Option(32, "--batch", help="With --jsonl: rows compressed together (at least 1)."),
) -> None:
    """Compress a tool output, log, diff, JSON or prose; the result goes to stdout."""
    options = CompressOptions(rate=rate, threshold=threshold, override=not no_override, domain=domain,
                              budget_tokens=budget, query=query, query_budget_tokens=query_budget,
                              min_prose_words=min_prose_words, min_saving_tokens=min_saving_tokens)
    check_domain(domain)
    if batch < 1:
        raise UserError(f"--batch must be at least 1, not {batch}")
    data = read_input(file)
    comp = make_compressor(model, runtime)
    sink = out.open("wb") if out else sys.stdout.buffer
    try:
        if jsonl:
            _compress_jsonl(comp, data, options, field, batch, sink, stats)
            return
        result = compress_safely(comp, [data], options)[0]
        if (result.stats.passthrough or "").startswith("compression failed"):
            err.print(f"whorf: warning: {result.stats.passthrough}; input passed through", markup=False, highlight=False)
        if as_json:
            sink.write(json_line(result.to_dict()))
        else:
            sink.write(result.text.encode("utf-8", "surrogateescape"))
        if stats:
            err.print(result.stats.line(), markup=False, highlight=False)
    finally:
        if out:
            sink.close()
        else:
            sink.flush()


MAX_ROW_NOTES = 20  # passthrough rows reported one by one on stderr; the rest are counted


def _compress_jsonl(comp, data: bytes, options: CompressOptions, field: str, batch: int, sink, show_stats: bool) -> None:
    from rich.progress import Progress

    total = len(split_rows(data))
    rows = passed = noted = tokens_in = tokens_out = 0
    with Progress(console=err, transient=True, disable=total < 50) as progress:
        task = progress.add_task("compressing", total=total)
        for row in compress_rows(comp, data, options, field, batch):
            sink.write(row.render())
            rows += 1
            if row.reason:
                passed += 1
                noted += bool(row.raw.strip())  # a blank line passes through silently
                if row.raw.strip() and noted <= MAX_ROW_NOTES:
                    err.print(f"whorf: line {row.number}: {row.reason}; passed through", markup=False, highlight=False)
            elif row.result is not None:
                tokens_in += row.result.stats.tokens_in
                tokens_out += row.result.stats.tokens_out
            progress.advance(task)
    if noted > MAX_ROW_NOTES:
        err.print(f"whorf: {noted - MAX_ROW_NOTES} more rows passed through (the reason is in their stats "
                  "when they are JSON objects)", markup=False, highlight=False)
    if show_stats:
        rate = tokens_out / tokens_in if tokens_in else 1.0
        err.print(f"whorf: {rows} rows: {rows - passed} compressed, {passed} passed through, "
                  f"tokens {tokens_in}->{tokens_out} ({rate:.2f})", markup=False, highlight=False)


@app.command()
@handle_errors
def explain(
    file: str = FILE_ARG,
    rate: Optional[float] = RATE_OPT,
    threshold: Optional[float] = THRESHOLD_OPT,
    no_override: bool = NO_OVERRIDE_OPT,
    domain: Optional[str] = DOMAIN_OPT,
    budget: int = BUDGET_OPT,
    query: Optional[str] = QUERY_OPT,
    query_budget: Optional[int] = QUERY_BUDGET_OPT,
    min_prose_words: int = MIN_PROSE_OPT,
    min_saving_tokens: int = MIN_SAVING_OPT,
    model: str = MODEL_OPT,
    runtime: str = RUNTIME_OPT,
    html: Optional[Path] = typer.Option(None, "--html", help="Also write a self-contained HTML page here."),
    scores: bool = typer.Option(False, "--scores", help="Print a table of every word with its score and decision."),
) -> None:
    """Show each word kept (green, must-keep bold) or dropped (struck through) with its score."""
    from whorf.explain import score_rows, to_html, to_rich
    from rich.console import Console

    options = CompressOptions(rate=rate, threshold=threshold, override=not no_override, domain=domain,
                              budget_tokens=budget, query=query, query_budget_tokens=query_budget,
                              min_prose_words=min_prose_words, min_saving_tokens=min_saving_tokens)
    comp = make_compressor(model, runtime)
    result = compress_safely(comp, [read_input(file)], options)[0]
    console = Console()
    if result.stats.passthrough:
        console.print(f"passthrough: {result.stats.passthrough}", markup=False)
    elif scores:
        table = Table("word", "score", "decision", "must-keep")
        for row in score_rows(result):
            table.add_row(*(Text(cell) for cell in row))  # words are data, never Rich markup
        console.print(table)
    else:
        console.print(to_rich(result))
    err.print(result.stats.line(), markup=False, highlight=False)
    if html:
        html.write_text(to_html(result), encoding="utf-8", errors="surrogateescape")
        err.print(f"wrote {html}", markup=False, highlight=False)


@app.command("export-onnx")
@handle_errors
def export_onnx(
    model: str = MODEL_OPT,
    out: Path = typer.Option(..., "--out", "-o", help="Directory for model.onnx and model.int8.onnx."),
    int8: bool = typer.Option(True, "--int8/--no-int8", help="Also write a dynamically quantized int8 file."),
    kompress: bool = typer.Option(False, "--kompress", help="Also write a Kompress-layout merged safetensors checkpoint."),
) -> None:
    """Export to ONNX (inputs input_ids, attention_mask; output final_scores) and check parity."""
    from whorf import model as modeling
    from whorf import registry
    from whorf.compressor import untrained_default
    from whorf.onnx_export import export, parity

    directory = registry.find(model)
    loaded = modeling.load(directory) if directory else untrained_default()
    files = export(loaded, out, int8=int8)
    for p in parity(loaded, files):
        err.print(p.line(), markup=False)
    if kompress:
        modeling.export_kompress(loaded, out / "kompress")
    for name, path in files.items():
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB)")

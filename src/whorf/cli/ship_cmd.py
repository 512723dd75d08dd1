"""``whorf ship-onnx``: put a model's int8 ONNX graph and tokenizer into its directory (the light path)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional

import typer

from whorf.cli.app import UserError, app, err, handle_errors


@app.command("ship-onnx")
@handle_errors
def ship_onnx(
    model: Optional[Path] = typer.Argument(None, help="Model directory (whorf.json + adapter.safetensors); default: the shipped default model's."),
    gate_data: Optional[List[Path]] = typer.Option(None, "--gate-data", help="Labelled JSONL files: gate the graph on their held-out rows."),
    gate_limit: int = typer.Option(0, "--gate-limit", help="Gate on at most this many held-out rows (0: all)."),
    keep_fp32: Optional[List[str]] = typer.Option(None, "--keep-fp32", help="Regex of graph node names left fp32 (repeatable; default: the recipe the model's onnx.json records, else every FFN MatMul and the token head). Fewer is faster; keep what the gate needs."),
    conv_int8: Optional[bool] = typer.Option(None, "--conv-int8/--no-conv-int8", help="Quantize the span head's first convolution too (exported as one MatMul); default: as onnx.json records."),
    teacher: Optional[str] = typer.Option(None, "--teacher", help="A student's teacher: gate the graph against it too (default: the one whorf.json names)."),
) -> None:
    """Export MODEL to model.int8.onnx + tokenizer.json inside it, so it runs without torch (needs the train extra)."""
    from dataclasses import replace

    from whorf.config import ModelConfig
    from whorf.gate import held_out_texts
    from whorf.onnx_export import Recipe
    from whorf.registry import DEFAULT_MODEL, shipped
    from whorf.ship import ship

    model = model or shipped(DEFAULT_MODEL)
    if model is None or not (model / "whorf.json").is_file():
        raise UserError(f"{model} is not a model directory (no whorf.json)")
    texts = held_out_texts(gate_data, gate_limit or None) if gate_data else None
    recipe = Recipe.of(model)
    recipe = replace(recipe, keep_fp32=tuple(keep_fp32) if keep_fp32 else recipe.keep_fp32,
                     conv_int8=recipe.conv_int8 if conv_int8 is None else conv_int8)
    for pattern in recipe.keep_fp32:  # before a minute of export, not after
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UserError(f"--keep-fp32 {pattern!r} is not a regular expression: {exc}") from None
    teacher = teacher or ModelConfig.load(model).training.get("distilled_from", {}).get("teacher")
    meta = ship(model, texts, recipe=recipe, teacher=teacher)
    for name, p in meta["parity"].items():
        err.print(f"parity {name}: max |diff| {p['max_abs_diff']:.2e}, token keep agreement {p['decision_agreement']:.4f}", markup=False)
    if "gate" in meta:
        g = meta["gate"]
        err.print(f"gate {'PASS' if g['passed'] else 'FAIL'}: agreement {g['agreement']:.4f}, exact_keep_pct drop {g['exact_keep_pct_drop']:+.4f} on {g['rows']} rows", markup=False)
    if "teacher_gate" in meta:
        g = meta["teacher_gate"]
        err.print(f"against the teacher ({g['reference']}): agreement {g['agreement']:.4f}, exact_keep_pct drop {g['exact_keep_pct_drop']:+.4f}", markup=False)
    graph = model / meta["graph"]
    print(f"{graph} ({graph.stat().st_size / 1e6:.1f} MB)")
    if "gate" in meta and not meta["gate"]["passed"]:
        raise typer.Exit(1)

"""An evaluation's settings, light to import (``whorf eval`` reads its defaults from here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from whorf.registry import DEFAULT_MODEL


@dataclass
class EvalConfig:
    data: list[str]
    model: str = DEFAULT_MODEL
    rate: float | None = None
    threshold: float | None = None
    baselines: bool = True
    split: str = "all"  # all | held-out | validation (see whorf.data)
    limit: int | None = None
    runtime: str = "torch"
    embedder: str | None = None
    curve_rows: int = 150
    heretic: list[str] = field(default_factory=list)
    label_rule: str = "aligned"
    gate: str | None = None  # a faster runtime (e.g. onnx-int8) to hold to the fp32 model's decisions (whorf.gate)
    gate_rows: int = 200  # rows of the standard datasets the gate compares on

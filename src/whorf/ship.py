"""Shipping a model for the torch-free light path: export its int8 graph with a recipe, gate the graph
against the model's own fp32 weights (and a student's teacher), and record all of it in ``onnx.json``.

This sits above the compressor and the gate (it uses both); the exporter it calls sits below them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from whorf import light
from whorf.gate import gate, teacher_gate
from whorf.onnx_export import Recipe, export, parity, report


def ship(directory: str | Path, gate_texts: list[str] | None = None, recipe: Recipe | None = None,
         teacher: str | Path | None = None) -> dict:
    """Export ``directory``'s model to ``model.int8.onnx`` + ``tokenizer.json`` inside it and write
    ``onnx.json`` (adapter digest, recipe, parity, and the gate on ``gate_texts``). Without a ``recipe``
    the one the directory's graph was last shipped with is used (``Recipe.of``)."""
    from whorf import model as modeling

    directory = Path(directory)
    recipe = recipe or Recipe.of(directory)
    loaded = modeling.load(directory)
    with tempfile.TemporaryDirectory(prefix="whorf-ship-") as tmp:
        files = export(loaded, tmp, int8=True, keep_fp32=recipe.keep_fp32, conv_matmul=recipe.conv_int8)
        checks = parity(loaded, {"onnx-int8": files["onnx-int8"]})
        shutil.copyfile(files["onnx-int8"], directory / light.GRAPH_FILE)
    loaded.tokenizer.backend_tokenizer.save(str(directory / light.TOKENIZER_FILE))
    meta = {"adapter_sha256": light.adapter_digest(directory), "graph": light.GRAPH_FILE,
            "quantization": recipe.describe(), "keep_fp32": list(recipe.keep_fp32), "conv_int8": recipe.conv_int8,
            "parity": report(checks)}
    if gate_texts:
        meta["gate"] = asdict(gate(directory, gate_texts, reference_loaded=loaded))
        if teacher:
            meta["teacher_gate"] = asdict(teacher_gate(directory, teacher, gate_texts))
    (directory / light.META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return meta

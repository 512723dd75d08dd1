"""ONNX export (fp32 and int8) with a parity check against PyTorch.

The graph has inputs ``input_ids`` and ``attention_mask`` (int64, [B, L]) and one output
``final_scores`` [B, L]: the layout Kompress uses, so files are interchangeable both ways.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from whorf import model as modeling
from whorf import registry
from whorf.runtime import ONNX_FILES, OnnxRuntime, TorchRuntime


@dataclass
class Parity:
    runtime: str
    max_abs_diff: float
    decision_agreement: float  # fraction of tokens with the same keep decision at the model threshold

    def line(self) -> str:
        return f"{self.runtime}: max |diff| {self.max_abs_diff:.2e}, keep-decision agreement {self.decision_agreement:.4f}"


def export(loaded: modeling.Loaded, out_dir: str | Path, int8: bool = True, opset: int = 17) -> dict[str, Path]:
    """Write ``model.onnx`` (and ``model.int8.onnx``) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net = copy.deepcopy(loaded.model).eval()
    if hasattr(net.encoder, "merge_and_unload"):
        net.encoder = net.encoder.merge_and_unload()
    wrapper = modeling.FinalScores(net).eval()
    ids = torch.full((2, 16), 100, dtype=torch.long)
    mask = torch.ones_like(ids)
    fp32 = out / ONNX_FILES["onnx"]
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (ids, mask),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["final_scores"],
            dynamic_axes={name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask", "final_scores")},
            opset_version=opset,
            dynamo=False,
        )
    files = {"onnx": fp32}
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        q = out / ONNX_FILES["onnx-int8"]
        quantize_dynamic(str(fp32), str(q), weight_type=QuantType.QInt8)
        files["onnx-int8"] = q
    return files


def parity(loaded: modeling.Loaded, files: dict[str, Path], samples: list[str] | None = None) -> list[Parity]:
    """Compare each ONNX file with the PyTorch fp32 scores on real tokenized samples."""
    tok = loaded.tokenizer
    samples = samples or [
        "Traceback (most recent call last):\n  File \"/app/main.py\", line 42, in run\nValueError: bad value 0x7fff",
        "2026-01-02 12:00:01 ERROR worker-3 exited with SIGILL (code 132) after --retries=5",
    ]
    batch = tok(samples, padding=True, truncation=True, max_length=loaded.config.max_length, return_tensors="np")
    ids, mask = batch["input_ids"].astype(np.int64), batch["attention_mask"].astype(np.int64)
    reference = TorchRuntime(loaded.model)(ids, mask)
    valid = mask.astype(bool)
    threshold = loaded.config.threshold
    out = []
    for name, path in files.items():
        got = OnnxRuntime(path, name)(ids, mask)
        diff = float(np.abs(got - reference)[valid].max())
        agree = float(((got > threshold) == (reference > threshold))[valid].mean())
        out.append(Parity(name, diff, agree))
    return out


def ensure_onnx(loaded: modeling.Loaded, directory: Path | None, onnx_dir: Path | None, int8: bool) -> Path:
    """The ONNX file for this model, exporting it once (into ``onnx_dir``, else the user cache)."""
    name = ONNX_FILES["onnx-int8" if int8 else "onnx"]
    for where in (onnx_dir, directory):
        if where and (where / name).is_file():
            return where / name
    key = hashlib.sha256(json.dumps(loaded.config.to_dict(), sort_keys=True, default=str).encode())
    if directory:
        key.update((directory / "adapter.safetensors").read_bytes())
    target = onnx_dir or registry.cache_dir() / "onnx" / key.hexdigest()[:16]
    if not (target / name).is_file():
        export(loaded, target, int8=int8)
    return target / name


def report(parities: list[Parity]) -> dict:
    return {p.runtime: asdict(p) for p in parities}

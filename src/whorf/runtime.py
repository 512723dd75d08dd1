"""Runtimes: turn a batch of (input_ids, attention_mask) into final scores [B, L].

``auto`` (the default) is the light path when the model directory ships its ONNX graph
(``model.int8.onnx`` + ``tokenizer.json``: ONNX Runtime and ``tokenizers`` only, no torch), else
``torch``. ``torch`` (fp32) and ``torch-bf16`` (bf16 autocast, fast only on CPUs with AMX or
AVX512-BF16) need the ``train`` extra; ``onnx`` and ``onnx-int8`` run the files ``whorf export-onnx``
writes (exported once and cached when the model does not ship them).

Nothing heavy is imported here at module level: torch and onnxruntime load when a runtime is built.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Protocol

import numpy as np

AUTO = "auto"
RUNTIMES = (AUTO, "torch", "torch-bf16", "onnx", "onnx-int8")
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}


class Runtime(Protocol):
    name: str

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray: ...


class TorchRuntime:
    def __init__(self, model, bf16: bool = False):
        self.model = model.eval()
        self.bf16 = bf16
        self.name = "torch-bf16" if bf16 else "torch"

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            ids = torch.from_numpy(np.ascontiguousarray(input_ids, dtype=np.int64))
            mask = torch.from_numpy(np.ascontiguousarray(attention_mask, dtype=np.int64))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                final = self.model(ids, mask).final
            return final.float().numpy()


class OnnxRuntime:
    def __init__(self, path: str | Path, name: str = "onnx", threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # no busy-waiting between ops: measured 10% faster on a shared 2-core machine, and it leaves the
        # cores to the proxy's other threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.path = Path(path)
        self.name = name

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        (out,) = self.session.run(
            ["final_scores"],
            {"input_ids": input_ids.astype(np.int64, copy=False), "attention_mask": attention_mask.astype(np.int64, copy=False)},
        )
        return out


def check(name: str) -> str:
    if name not in RUNTIMES:
        raise ValueError(f"unknown runtime {name!r}: use one of {', '.join(RUNTIMES)}")
    return name


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def resolve(name: str, light_graph: bool) -> str:
    """The concrete runtime for ``name``: ``auto`` is ``onnx-int8`` when the model ships a valid
    graph (``light_graph``), else ``torch``."""
    check(name)
    if name.startswith("torch") and not torch_available():
        raise RuntimeError(f"runtime {name!r} needs torch: install the training extra (pip install 'whorf[train]') "
                           "or use --runtime auto (the shipped int8 ONNX graph)")
    if name != AUTO:
        return name
    if light_graph:
        return "onnx-int8"
    if not torch_available():
        raise RuntimeError(
            "this model ships no ONNX graph and torch is not installed: install the training extra "
            "(pip install 'whorf[train]') or export the graph with `whorf ship-onnx MODEL_DIR`"
        )
    return "torch"


def cpu_features() -> dict[str, bool]:
    """The CPU features that decide int8/bf16 speed (Linux /proc/cpuinfo; empty elsewhere)."""
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
    try:
        flags = set()
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        return {}
    return {f: f in flags for f in wanted}

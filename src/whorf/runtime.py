"""Runtimes: turn a batch of (input_ids, attention_mask) into final scores [B, L].

``torch`` (fp32), ``torch-bf16`` (bf16 autocast, fastest on CPUs with AMX/AVX-512 BF16), ``onnx`` and
``onnx-int8`` (ONNX Runtime on the files ``whorf export-onnx`` writes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch

RUNTIMES = ("torch", "torch-bf16", "onnx", "onnx-int8")
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}


class Runtime(Protocol):
    name: str

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray: ...


class TorchRuntime:
    def __init__(self, model: torch.nn.Module, bf16: bool = False):
        self.model = model.eval()
        self.bf16 = bf16
        self.name = "torch-bf16" if bf16 else "torch"

    @torch.inference_mode()
    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        ids = torch.from_numpy(input_ids)
        mask = torch.from_numpy(attention_mask)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            final = self.model(ids, mask).final
        return final.float().numpy()


class OnnxRuntime:
    def __init__(self, path: str | Path, name: str = "onnx", threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.name = name

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        (out,) = self.session.run(
            ["final_scores"],
            {"input_ids": input_ids.astype(np.int64), "attention_mask": attention_mask.astype(np.int64)},
        )
        return out


def check(name: str) -> str:
    if name not in RUNTIMES:
        raise ValueError(f"unknown runtime {name!r}: use one of {', '.join(RUNTIMES)}")
    return name

"""The torch-free model loader: ``whorf.json`` + ``tokenizer.json`` + ``model.int8.onnx``.

A model directory that ships its graph (``whorf ship-onnx DIR`` writes the two files and
``onnx.json``) is loaded with ``tokenizers`` and ``onnxruntime`` only. ``onnx.json`` records the
SHA-256 of the ``adapter.safetensors`` the graph was exported from, so a retrained model whose graph
was not re-exported is detected (``valid_graph`` is False and ``auto`` falls back to torch).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from whorf.config import ADAPTER_FILE, ModelConfig
from whorf.runtime import ONNX_FILES

GRAPH_FILE = ONNX_FILES["onnx-int8"]
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "onnx.json"

log = logging.getLogger("whorf")


@dataclass
class LightModel:
    config: ModelConfig
    tokenizer: object  # tokenizers.Tokenizer
    graph: Path


def adapter_digest(directory: Path) -> str | None:
    path = directory / ADAPTER_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def meta(directory: Path) -> dict:
    path = directory / META_FILE
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        return {}


def valid_graph(directory: Path | None) -> bool:
    """True when ``directory`` ships a graph and tokenizer exported from its current adapter."""
    if directory is None or not (directory / GRAPH_FILE).is_file() or not (directory / TOKENIZER_FILE).is_file():
        return False
    recorded = meta(directory).get("adapter_sha256")
    current = adapter_digest(directory)
    if recorded and current and recorded != current:
        log.warning("whorf: %s holds an ONNX graph exported from another adapter; re-export it with "
                    "`whorf ship-onnx %s`", directory, directory)
        return False
    return True


def load_tokenizer(path: Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


def load(directory: str | Path) -> LightModel:
    """Config, fast tokenizer and int8 graph of a model directory, without torch."""
    directory = Path(directory)
    for name in (GRAPH_FILE, TOKENIZER_FILE):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory} has no {name}: export it with `whorf ship-onnx {directory}`")
    config = ModelConfig.load(directory)
    return LightModel(config, load_tokenizer(directory / TOKENIZER_FILE), directory / GRAPH_FILE)

"""whorf: compress what LLM agents read, keeping the words that name the concept.

Attributes load on first use (PEP 562), so ``import whorf`` stays instant: nothing heavy (torch,
transformers, onnxruntime) is imported until a model is loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "Compressor": "whorf.compressor",
    "compress": "whorf.compressor",
    "CompressOptions": "whorf.config",
    "ModelConfig": "whorf.config",
    "Compressed": "whorf.result",
    "Stats": "whorf.result",
    "WordDecision": "whorf.result",
}
__all__ = list(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from whorf.compressor import Compressor, compress
    from whorf.config import CompressOptions, ModelConfig
    from whorf.result import Compressed, Stats, WordDecision


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'whorf' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)

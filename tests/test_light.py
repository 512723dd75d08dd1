"""The light path: the shipped model runs from tokenizer.json + model.int8.onnx without torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from whorf import light, registry

SHIPPED = registry.shipped(registry.DEFAULT_MODEL)
EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "whorf" / "examples"
pytestmark = pytest.mark.skipif(SHIPPED is None or not (SHIPPED / light.GRAPH_FILE).is_file(),
                                reason="the default model ships no ONNX graph")


def run_python(code: str) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


HEAVY = "['torch', 'transformers', 'peft', 'onnxruntime', 'sentence_transformers']"


def test_import_whorf_and_the_cli_load_nothing_heavy():
    got = run_python(
        "import sys, json, whorf\n"
        "from whorf.cli.app import register_commands\n"
        "register_commands()\n"
        f"print(json.dumps([m for m in {HEAVY} if m in sys.modules]))"
    )
    assert got == []


def test_the_default_compressor_runs_without_torch():
    got = run_python(
        "import sys, json\n"
        "from whorf import Compressor\n"
        f"res = Compressor().compress(open({str(EXAMPLES / 'traceback.txt')!r}).read())\n"
        "print(json.dumps({'runtime': res.stats.runtime, 'kept': res.stats.words_kept, 'words': res.stats.words,"
        " 'torch': 'torch' in sys.modules, 'transformers': 'transformers' in sys.modules}))"
    )
    assert got["runtime"] == "onnx-int8"
    assert not got["torch"] and not got["transformers"]
    assert 0 < got["kept"] <= got["words"]


def test_the_shipped_graph_was_exported_from_the_shipped_adapter():
    """Fails when the model is retrained without re-exporting: run `make onnx`."""
    meta = light.meta(SHIPPED)
    assert meta["adapter_sha256"] == light.adapter_digest(SHIPPED)
    assert light.valid_graph(SHIPPED)


def test_the_light_tokenizer_gives_the_training_tokenizer_pieces():
    from transformers import AutoTokenizer

    from whorf.backbone import resolve
    from whorf.config import ModelConfig
    from whorf.scoring import WordTokens, special_ids

    hf = AutoTokenizer.from_pretrained(resolve(ModelConfig.load(SHIPPED).backbone))
    raw = light.load(SHIPPED).tokenizer
    words = (EXAMPLES / "traceback.txt").read_text().split()
    assert WordTokens(raw)(words) == WordTokens(hf)(words)
    assert special_ids(raw) == special_ids(hf)


def test_a_stale_graph_is_not_used(tmp_path):
    """A graph whose recorded adapter digest differs falls back to torch under runtime auto."""
    from whorf.compressor import Compressor

    model = tmp_path / "m"
    shutil.copytree(SHIPPED, model)
    meta = light.meta(model)
    meta["adapter_sha256"] = "0" * 64
    (model / light.META_FILE).write_text(json.dumps(meta))
    assert not light.valid_graph(model)
    assert Compressor(str(model)).runtime.name == "torch"
    assert Compressor(str(SHIPPED)).runtime.name == "onnx-int8"
    # asked for the int8 graph by name, the stale file is refused, not read (open_compressor would re-export)
    with pytest.raises(ValueError, match="no model.int8.onnx"):
        Compressor(str(model), runtime="onnx-int8")


def test_light_decisions_agree_with_the_fp32_model():
    """The bundled examples: the int8 light path keeps what fp32 torch keeps (the full gate on held-out
    rows runs in `make onnx` and the eval: >= 99% agreement, exact_keep_pct drop <= 0.005)."""
    from whorf import model as modeling
    from whorf.compressor import Compressor
    from whorf.gate import compare

    texts = [p.read_text() for p in sorted(EXAMPLES.iterdir()) if p.is_file()]
    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "ultrawhale" / "kompress_agent_train.jsonl"
    if data.is_file():
        from whorf.gate import held_out_texts

        texts += held_out_texts([data], limit=40)
    light_comp = Compressor(registry.DEFAULT_MODEL)
    reference = Compressor(modeling.load(SHIPPED), runtime="torch")
    result = compare(light_comp, reference, texts)
    assert result.words > 200
    assert result.agreement >= 0.97, result.line()
    assert result.exact_keep_pct_drop <= 0.02, result.line()


def test_cpu_features_are_reported():
    from whorf.runtime import cpu_features

    feats = cpu_features()
    if Path("/proc/cpuinfo").is_file():
        assert "avx512_vnni" in feats and all(isinstance(v, bool) for v in feats.values())

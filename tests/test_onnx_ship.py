"""Shipping a model's int8 graph for the light path: fused, per-channel, sensitive layers fp32."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import onnx

from whorf import light
from whorf.onnx_export import Recipe, export
from whorf.ship import ship


def test_export_fuses_and_keeps_the_ffn_outputs_fp32(tiny_model_dir, tmp_path):
    from whorf import model as modeling

    files = export(modeling.load(tiny_model_dir), tmp_path, int8=True)
    fused = {n.op_type for n in onnx.load(str(files["onnx"])).graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= fused
    nodes = onnx.load(str(files["onnx-int8"])).graph.node
    ops = {n.op_type for n in nodes}
    assert "QAttention" in ops and ({"MatMulInteger", "DynamicQuantizeMatMul"} & ops)
    fp32 = [n.name for n in nodes if n.op_type == "MatMul"]
    assert any("output/dense" in name for name in fp32)  # the FFN output projections stayed fp32
    # and only what the default recipe names: every other projection of the encoder layers is int8
    layer_fp32 = [name for name in fp32 if re.search(r"layer\.\d+/", name)]
    assert layer_fp32 and all(any(re.search(p, name) for p in Recipe().keep_fp32) for name in layer_fp32)


def test_ship_writes_the_light_files_and_the_light_path_decides_like_torch(tiny_model_dir, tmp_path):
    from whorf.compressor import Compressor

    model = tmp_path / "tiny"
    shutil.copytree(tiny_model_dir, model)
    assert Compressor(str(model)).runtime.name == "torch"  # no graph yet: auto falls back to torch
    meta = ship(model)
    for name in (light.GRAPH_FILE, light.TOKENIZER_FILE, light.META_FILE):
        assert (model / name).is_file()
    assert json.loads((model / light.META_FILE).read_text())["adapter_sha256"] == light.adapter_digest(model)
    assert meta["parity"]["onnx-int8"]["decision_agreement"] > 0.8
    text = "worker 3 crashed with SIGILL at 0x7fff2038\nthe process was restarted by the supervisor " * 20
    fast = Compressor(str(model))
    assert fast.runtime.name == "onnx-int8" and fast.model is None
    slow = Compressor(str(model), runtime="torch")
    a, b = fast.compress(text), slow.compress(text)
    assert [w.text for w in a.words] == [w.text for w in b.words]
    diff = np.abs(np.array([w.score for w in a.words]) - np.array([w.score for w in b.words]))
    assert diff.max() < 0.1


def test_a_graph_is_reshipped_with_the_recipe_its_onnx_json_records(tiny_model_dir, tmp_path):
    model = tmp_path / "tiny"
    shutil.copytree(tiny_model_dir, model)
    lean = Recipe(keep_fp32=("token_head",), conv_int8=True)
    first = ship(model, recipe=lean)
    assert Recipe.of(model) == lean and first["quantization"] == lean.describe()
    again = ship(model)  # no recipe given: the recorded one, not the code default
    assert again["keep_fp32"] == ["token_head"] and again["conv_int8"] is True
    assert Recipe.of(tmp_path) == Recipe()  # a directory without onnx.json: the default

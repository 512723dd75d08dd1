import numpy as np
import pytest
import onnx

from whorf import model as modeling
from whorf.onnx_export import export, parity


def test_export_writes_kompress_layout_and_matches_torch(tiny_model_dir, tmp_path):
    loaded = modeling.load(tiny_model_dir)
    files = export(loaded, tmp_path, int8=True)
    graph = onnx.load(str(files["onnx"])).graph
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in graph.output] == ["final_scores"]
    results = {p.runtime: p for p in parity(loaded, files)}
    assert results["onnx"].max_abs_diff < 1e-4
    assert results["onnx"].decision_agreement == 1.0
    assert results["onnx-int8"].max_abs_diff < 0.2
    assert results["onnx-int8"].decision_agreement > 0.8


def test_onnx_runtime_compresses_like_torch(tiny_model_dir, tmp_path):
    from whorf import Compressor

    text = "worker 3 crashed with SIGILL at 0x7fff2038\nthe process was restarted by the supervisor"
    from whorf.gate import open_compressor
    from whorf.runtime import OnnxRuntime

    with pytest.raises(ValueError, match="export-onnx"):  # the compressor never exports a graph itself
        Compressor(str(tiny_model_dir), "onnx", onnx_dir=tmp_path)
    assert not list(tmp_path.iterdir())
    a = Compressor(str(tiny_model_dir), "torch").compress(text)
    b = open_compressor(str(tiny_model_dir), "onnx", onnx_dir=tmp_path).compress(text)  # exports, then loads
    given = Compressor(str(tiny_model_dir), OnnxRuntime(tmp_path / "model.onnx", "onnx")).compress(text)
    assert given.text == b.text and given.stats.runtime == "onnx"
    np.testing.assert_allclose([w.score for w in a.words], [w.score for w in b.words], atol=1e-3)
    assert a.text == b.text
    assert b.stats.runtime == "onnx"


def test_the_span_convolution_exports_as_a_matmul_with_the_same_scores(tiny_model_dir, tmp_path):
    loaded = modeling.load(tiny_model_dir)
    files = export(loaded, tmp_path, int8=True, conv_matmul=True)
    fp32_ops = {n.op_type for n in onnx.load(str(files["onnx"])).graph.node}
    assert "Conv" in fp32_ops  # the second, 1-channel convolution
    int8_nodes = [n for n in onnx.load(str(files["onnx-int8"])).graph.node if "span_conv" in n.name]
    assert any("MatMul" in n.op_type and "Integer" in n.op_type or n.op_type == "DynamicQuantizeMatMul" for n in int8_nodes)
    results = {p.runtime: p for p in parity(loaded, files)}
    assert results["onnx"].max_abs_diff < 1e-4 and results["onnx"].decision_agreement == 1.0
    assert results["onnx-int8"].max_abs_diff < 0.2

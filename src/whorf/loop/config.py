"""The self-labeling loop's settings, light to import (the CLI reads its defaults from here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from whorf.train.loop import TrainConfig

DEFAULT_START = "whorf-mini"
EPOCHS_PER_GENERATION = 1  # each generation trains briefly from the backbone on its self-labels


@dataclass
class LoopConfig:
    start: str  # model name or directory: generation 0 (the CLI's default: DEFAULT_START)
    data: list[str]
    out: str
    generations: int = 3
    eval_data: list[str] = field(default_factory=list)  # held-out split of these, heretic files whole
    min_ratio: float = 1.2  # keep a self-label only when len(text) / len(reference) is at least this
    min_chars: int = 30
    tolerance: float = 0.005
    eval_rows: int = 150
    max_rows_per_file: int | None = None  # texts self-labelled per source file (by text hash)
    train: TrainConfig | None = None  # hyperparameters for every generation (data/out/name are set here)

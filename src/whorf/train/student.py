"""A smaller, faster student distilled from a trained whorf model (issue 11), top to bottom:

    teacher (merged, fp32) -> student = the teacher's layers ``layers`` + its heads -> the teacher's
    central outputs on every training document, once -> epochs of matching them from windows whose
    edges move every epoch -> best epoch on validation -> held-out gate against the teacher -> save
    (whorf.json ``layers`` and ``overlap``; adapter: layers + heads)

The student learns the teacher's decisions, not the silver labels. Its targets are what inference
decides with: each word's tokens scored in the teacher's window where the word is most central
(``whorf.train.central``). Its training windows do not overlap and start at a random cut, so every
word is seen at a window edge in some epochs and the student learns to score it there as the teacher
scores it with full context; that is what lets it infer with less window overlap (``overlap``, an
eighth by default, against the teacher's quarter): fewer tokens through the encoder. The loss is a
Huber loss on the logit of the final score and on the token head's margin, weighted up near the
decision threshold (threshold + the domain's bias), where a small error flips a keep decision. The
embeddings stay the backbone's (frozen, not saved).
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
from whorf.scoring import special_ids
from whorf.train import provenance
from whorf.train.batching import batches
from whorf.train.central import (Doc, central_outputs, documents, outputs, pad_rows, shifted_windows, token_index,
                                 word_scores)
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
    epochs: int = 8
    overlap: float = 0.125  # the student's inference window overlap (validated and gated at it)
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
        if not 0.0 <= self.overlap < 1.0:
            raise ValueError(f"overlap must be in [0, 1), not {self.overlap}")


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


def _batch(docs: list[Doc], members, ids: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """A training batch: the teacher's central outputs for every word token of each window."""
    target = np.zeros((*ids.shape, 3), dtype=np.float32)
    valid = np.zeros(ids.shape, dtype=bool)
    for row, (d, w) in enumerate(members):
        index = token_index(docs[d], w)
        words = index >= 0
        target[row, :len(index)][words] = docs[d].target[index[words]]
        valid[row, :len(index)] = words
    return {"ids": ids, "mask": mask, "target": torch.from_numpy(target), "valid": torch.from_numpy(valid),
            "threshold": torch.tensor([docs[d].threshold for d, _ in members]).view(-1, 1)}


def loss_fn(pred: torch.Tensor, batch: dict, near: float, near_weight: float) -> torch.Tensor:
    """Huber on the margin and final-score logits (span logit at half weight), word tokens only,
    weighted up where the teacher's final score is near the threshold."""
    valid = batch["valid"]
    target = batch["target"]
    final_t = torch.sigmoid(target[..., 2])
    weight = 1.0 + near_weight * torch.exp(-(final_t - batch["threshold"]).abs() / near)
    per = (F.smooth_l1_loss(pred[..., 0], target[..., 0], reduction="none")
           + 0.5 * F.smooth_l1_loss(pred[..., 1], target[..., 1], reduction="none")
           + F.smooth_l1_loss(pred[..., 2], target[..., 2], reduction="none"))
    return (per * weight)[valid].sum() / weight[valid].sum()


def agreement(net: modeling.DualHead, docs: list[Doc], loaded: modeling.Loaded, cfg: StudentConfig) -> dict:
    """Word keep-decision agreement with the teacher, as inference decides (central windows at the
    student's ``overlap``), and the distillation loss on those outputs."""
    config = loaded.config
    got = central_outputs(net, docs, loaded.tokenizer, config.max_length, cfg.overlap, cfg.batch_size * 2)  # fp32, as gated
    same = total = 0
    losses = []
    for doc, out in zip(docs, got):
        if not doc.pieces:
            continue
        mine, theirs = word_scores(out, doc, config.pooling), word_scores(doc.target, doc, config.pooling)
        same += int(((mine > doc.threshold) == (theirs > doc.threshold)).sum())
        total += len(mine)
        batch = {"target": torch.from_numpy(doc.target)[None], "valid": torch.ones(1, doc.tokens, dtype=torch.bool),
                 "threshold": torch.tensor([[doc.threshold]])}
        losses.append(float(loss_fn(torch.from_numpy(out)[None], batch, cfg.near, cfg.near_weight)))
    return {"word_agreement": same / max(total, 1), "distill_loss": float(np.mean(losses)) if losses else float("nan")}


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
    student.config.overlap = cfg.overlap
    train_d, val_d = documents(splits.train, teacher), documents(splits.validation, teacher)
    tick = time.time()
    every = train_d + val_d
    for doc, target in zip(every, central_outputs(teacher.model, every, teacher.tokenizer, teacher.config.max_length,
                                                  teacher.config.overlap, cfg.batch_size * 2)):
        doc.target = target
    console.print(f"teacher scores on {len(every)} documents in {time.time() - tick:.0f} s")
    before, history, best = run_epochs(student, train_d, val_d, cfg, out, console)
    student.config.training = {
        "distilled_from": {"teacher": teacher.config.name, "teacher_commit": teacher.config.training.get("git_commit")},
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in ("data", "out")},
        "data": [rep.summary() for rep in splits.reports],
        "rows": {"train": len(splits.train), "validation": len(splits.validation), "held_out": len(splits.held_out)},
        "documents": len(train_d), "best_epoch": best["epoch"], "selected_on": "validation",
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


def run_epochs(student: modeling.Loaded, train_d: list[Doc], val_d: list[Doc], cfg: StudentConfig, out: Path,
               console) -> tuple[dict, list[dict], dict]:
    """Every epoch's steps on freshly cut windows, then validation agreement; leaves the student with
    the best epoch's weights. Returns (validation before training, per-epoch validation, the best epoch's)."""
    net, tokenizer, max_length = student.model, student.tokenizer, student.config.max_length
    pad = special_ids(tokenizer)[2]
    rng = np.random.default_rng(cfg.seed)
    plan = [shifted_windows(train_d, tokenizer, max_length, rng) for _ in range(cfg.epochs)]
    steps = [batches([w for _, w in wins], cfg.batch_size, cfg.seed + e) for e, wins in enumerate(plan)]
    optimizer, scheduler, params = _optimiser(net, cfg, sum(len(s) for s in steps))
    state = {"global_step": 0, "epoch": 0}
    history, best, best_state = [], None, None
    before = agreement(net, val_d, student, cfg)
    console.print(f"before training (validation): {before}")
    with (out / "train_log.jsonl").open("w") as log, TrainProgress(console, sum(len(s) for s in steps), state) as progress:
        for epoch, (wins, epoch_steps) in enumerate(zip(plan, steps)):
            net.train()
            running, tokens, tick = [], 0, time.time()
            for idx in epoch_steps:
                members = [wins[i] for i in idx]
                ids, mask = pad_rows([w.ids for _, w in members], pad)
                batch = _batch(train_d, members, ids, mask)
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
                tokens += int(mask.sum())
                if state["global_step"] % cfg.log_every == 0:
                    record = {"step": state["global_step"], "epoch": epoch + 1, "loss": float(np.mean(running)),
                              "tokens_per_s": tokens / max(time.time() - tick, 1e-9)}
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                    progress.log(record)
                    running = []
                progress.step(epoch + 1)
            metrics = {"epoch": epoch + 1, **agreement(net, val_d, student, cfg)}
            history.append(metrics)
            log.write(json.dumps({"validation": metrics}) + "\n")
            console.print(f"epoch {epoch + 1} (validation): {metrics}")
            if best is None or metrics["word_agreement"] > best["word_agreement"]:
                best, best_state = metrics, copy.deepcopy(net.state_dict())
    net.load_state_dict(best_state)
    net.eval()
    return before, history, best


def _teacher_gate(student: modeling.Loaded, teacher: modeling.Loaded, texts: list[str]):
    """Model-alone keep decisions of the student against the teacher's, both torch fp32, on ``texts``."""
    from whorf import gate
    from whorf.compressor import Compressor

    return gate.compare(Compressor(student, runtime="torch"), Compressor(teacher, runtime="torch"), texts)

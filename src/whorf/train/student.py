"""A smaller, faster student distilled from a trained whorf model, top to bottom:

    teacher (merged, fp32) -> student = the teacher's layers ``layers`` + its heads -> the teacher's
    scores on every training window, once -> epochs of matching them (the step loop of
    ``whorf.train.loop``, resumable like the teacher's) -> best epoch on validation -> held-out gate
    against the teacher -> save (whorf.json ``layers``; adapter: layers + heads)

The student learns the teacher's decisions, not the silver labels: the loss is a Huber loss on the
logit of the final score and on the token head's margin, weighted up near the decision threshold
(threshold + the domain's bias), where a small error flips a keep decision. The embeddings stay the
backbone's (frozen, not saved). Same data splits, windows and domain prefixes as the teacher's training.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from whorf import model as modeling
from whorf import registry
from whorf.config import ModelConfig
from whorf.train import checkpoint, loop, provenance
from whorf.train.batching import batches, collate
from whorf.train.examples import IGNORE, Example, windows
from whorf.train.loop import StudentConfig  # defined with the loop, so the command line reads it without torch
from whorf.train.trainer import Splits, TrainConfig, load_splits

if TYPE_CHECKING:
    from rich.console import Console

    from whorf.data.labelled import LabelledRow
    from whorf.gate import GateResult

EPS = 1e-5


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


def student_windows(items: list[LabelledRow], loaded: modeling.Loaded) -> list[Window]:
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


def train_student(cfg: StudentConfig, console: Console | None = None) -> Path:
    """Distil ``cfg.teacher`` into a ``len(cfg.layers)``-layer student written to ``cfg.out``; resumes from
    ``cfg.out/checkpoint`` when one exists."""
    from rich.console import Console

    from whorf.train import parallel

    console = console or Console(stderr=True, quiet=not parallel.is_main())
    started = time.time()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    teacher = _teacher(cfg)
    source = provenance.record(teacher.config.profile)
    splits = _splits(cfg, teacher, console)
    out = _prepare(cfg)
    student = make_student(teacher, cfg.layers, cfg.name)
    pad = teacher.tokenizer.pad_token_id or 0
    train_w, val_w = student_windows(splits.train, teacher), student_windows(splits.validation, teacher)
    tick = time.time()
    teacher_targets(teacher, train_w + val_w, cfg.batch_size, pad)
    console.print(f"teacher scores on {len(train_w) + len(val_w)} windows in {time.time() - tick:.0f} s")
    training = loop.start(_task(student.model, train_w, val_w, cfg, pad), cfg, out, console)
    before = _before(training, val_w, cfg, pad, console)
    if not loop.run_epochs(training, console) or not training.main:
        return out  # stopped early (a checkpoint to resume from), or a process that only trained
    loop.restore_best(training)
    state = training.state
    student.config.training = _training_record(cfg, teacher, splits, len(train_w), state["best"], started, source)
    result = _teacher_gate(student, teacher, [it.row.text for it in splits.held_out][: cfg.gate_rows])
    console.print(result.line().replace("gate", "student vs teacher", 1))
    student.config.evaluation = {"validation_before": before, "history": state["history"],
                                 "best_epoch": state["best"]["epoch"], "teacher_gate_held_out": asdict(result)}
    modeling.save(student, out)
    (out / "eval.json").write_text(json.dumps(student.config.evaluation, indent=2) + "\n")
    (out / loop.BEST).unlink(missing_ok=True)
    shutil.rmtree(out / checkpoint.DIRECTORY, ignore_errors=True)  # finished: a later run starts afresh
    return out


def _splits(cfg: StudentConfig, teacher: modeling.Loaded, console: Console) -> Splits:
    """The teacher's splits of ``cfg.data``, labelled with its rule and profile; refuses empty ones."""
    hyper = teacher.config.training.get("hyperparameters", {})
    splits = load_splits(TrainConfig(data=cfg.data, out=cfg.out, rule=hyper.get("rule", TrainConfig.rule),
                                     profile=teacher.config.profile, held_out_pct=cfg.held_out_pct,
                                     validation_pct=cfg.validation_pct, max_rows_per_file=cfg.max_rows_per_file),
                         console)
    if not splits.train or not splits.validation:
        raise ValueError(f"no training or validation rows in {', '.join(cfg.data)} (train {len(splits.train)}, "
                         f"validation {len(splits.validation)})")
    return splits


def _prepare(cfg: StudentConfig) -> Path:
    """The output directory, without another model's light files."""
    from whorf import light

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in (light.GRAPH_FILE, light.META_FILE, light.TOKENIZER_FILE):
        (out / stale).unlink(missing_ok=True)
    return out


def _task(net: modeling.DualHead, train_w: list[Window], val_w: list[Window], cfg: StudentConfig,
          pad: int) -> loop.Task:
    """The student's part of the loop: its layers (``lr``) and heads (``head_lr``) train on the distillation
    loss, the embeddings stay frozen; the highest validation token agreement picks the best epoch."""
    return loop.Task(
        net=net, examples=[w.example for w in train_w],
        batch=lambda idx: _batch(train_w, idx, pad),
        forward=lambda model, batch: outputs(model(batch["ids"], batch["mask"])),
        loss=lambda pred, batch: loss_fn(pred, batch, cfg.near, cfg.near_weight),
        trainable=lambda name: not name.startswith(modeling.ENCODER_PREFIX + modeling.EMBEDDINGS),
        body=lambda name: name.startswith(modeling.ENCODER_PREFIX),
        weights=lambda: modeling.trainable_state(net, full=True, embeddings=False),
        validate=lambda epoch: {"epoch": epoch, **agreement(net, val_w, cfg, pad)},
        best_by="token_agreement", lower_is_better=False, summary=str, log_lr=False,
    )


def _before(training: loop.Training, val_w: list[Window], cfg: StudentConfig, pad: int, console: Console) -> dict:
    """The validation agreement before training; a fresh run measures it (and starts a fresh log), a resumed
    one finds it in its checkpoint."""
    state = training.state
    if "before" not in state and training.main:
        state["before"] = agreement(training.task.net, val_w, cfg, pad)
        console.print(f"before training (validation): {state['before']}")
        (training.out / loop.LOG).write_text("")
    return state.get("before", {})


def _training_record(cfg: StudentConfig, teacher: modeling.Loaded, splits: Splits, train_windows: int, best: dict,
                     started: float, source: dict) -> dict:
    return {
        "distilled_from": {"teacher": teacher.config.name, "teacher_commit": teacher.config.training.get("git_commit")},
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in ("data", "out")},
        "data": [rep.summary() for rep in splits.reports],
        "rows": {"train": len(splits.train), "validation": len(splits.validation), "held_out": len(splits.held_out)},
        "windows": train_windows, "best_epoch": best["epoch"], "selected_on": "validation",
        "wall_seconds": round(time.time() - started, 1), "torch_threads": torch.get_num_threads(), **source,
    }


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


def _teacher_gate(student: modeling.Loaded, teacher: modeling.Loaded, texts: list[str]) -> GateResult:
    """Model-alone keep decisions of the student against the teacher's, both torch fp32, on ``texts``."""
    from whorf import gate
    from whorf.compressor import Compressor

    return gate.compare(Compressor(student, runtime="torch"), Compressor(teacher, runtime="torch"), texts)

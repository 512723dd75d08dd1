"""Data-parallel training through Accelerate: N processes, one model replica each, the same global batch.

    whorf train --processes 2 ...        (or: torchrun --nproc-per-node 2 -m whorf train ...,
                                           accelerate launch --num_processes 2 -m whorf train ...)

Each process plans the same seeded batches and takes its share of every one (``shard``); Accelerate wraps
the net in DistributedDataParallel (gloo on CPU, NCCL on GPUs), so the gradients are averaged across the
processes before the one optimiser step each takes: the replicas stay identical. Only the main process
validates, logs and writes checkpoints; on resume every process reads the same checkpoint.

Why Accelerate and not Ray Train: the same script runs unchanged on one process, on N CPU processes and on
N GPUs, launched by torchrun or ``accelerate launch`` on one machine or several; it adds no cluster to
training, and the loop keeps its own small checkpoints (only the trainable tensors) instead of a second
checkpoint layer. Ray stays where the work is embarrassingly parallel: ``whorf batch``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

WORLD_ENV = "WORLD_SIZE"  # set by torchrun / accelerate launch in every process they start


def world_size() -> int:
    return int(os.environ.get(WORLD_ENV, "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def accelerator() -> Any:
    """The process's Accelerator: CPU (gloo between processes) unless CUDA is present."""
    import torch
    from accelerate import Accelerator

    return Accelerator(cpu=not torch.cuda.is_available())


def shard(idx: list[int], rank_: int, world: int) -> list[int]:
    """This process's share of a global batch: every ``world``-th index from ``rank_``. A batch smaller
    than the number of processes gives some of them one index again (every process must take the step)."""
    if world == 1:
        return idx
    mine = idx[rank_::world]
    return mine or [idx[rank_ % len(idx)]]


def launch_command(processes: int, argv: list[str]) -> list[str]:
    """The torchrun command that runs ``whorf ARGV`` in ``processes`` processes on this machine."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
            "-m", "whorf", *argv]

"""Resumable checkpoints: trainable weights (safetensors), optimiser, scheduler and RNG state, and the
loop position (``state.json``, written last and atomically, so a checkpoint is complete or absent).

Only the trainable tensors are written (2.5 MB for whorf-mini, against 90 MB for the whole model that
``accelerate``'s ``save_state`` would write every ``checkpoint_every`` steps).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from whorf import model as modeling

DIRECTORY = "checkpoint"


def fresh_state() -> dict:
    return {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "history": [], "best": None, "train_seconds": 0.0}


def exists(ckpt: Path) -> bool:
    return (ckpt / "state.json").is_file()


def save(ckpt: Path, weights: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer, scheduler: Any,
         state: dict) -> None:
    """Write ``weights`` (what ``modeling.load_trainable`` reads back), the optimiser, schedule and RNG state,
    then ``state``."""
    ckpt.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(ckpt / "weights.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state()}, ckpt / "optim.pt")
    tmp = ckpt / "state.json.tmp"
    tmp.write_text(json.dumps(state))
    tmp.replace(ckpt / "state.json")


def resume(ckpt: Path, net: modeling.DualHead, optimizer: torch.optim.Optimizer, scheduler: Any) -> dict:
    """Load a checkpoint into ``net``, ``optimizer`` and ``scheduler`` and restore the RNG; returns the state."""
    modeling.load_trainable(net, load_file(str(ckpt / "weights.safetensors")))
    extra = torch.load(ckpt / "optim.pt", weights_only=True)
    optimizer.load_state_dict(extra["optimizer"])
    scheduler.load_state_dict(extra["scheduler"])
    torch.set_rng_state(extra["torch_rng"])
    return json.loads((ckpt / "state.json").read_text())

"""Batches of training windows and the teacher's training loss:

    loss = mean(CE(token_logits, labels) * w) + span_weight * BCE(span, keep_mask)

``w`` is ``must_weight`` (3.0) for must-keep words and 1.0 otherwise; special, prefix and padding tokens
carry the ignore index and count nowhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from transformers.trainer_pt_utils import get_length_grouped_indices

from whorf import model as modeling
from whorf.train.examples import IGNORE, Example


def loss_fn(out: modeling.Output, labels: torch.Tensor, weights: torch.Tensor, span_weight: float) -> torch.Tensor:
    """The loss above, over the valid (word) tokens of a batch."""
    valid = labels != IGNORE
    ce = F.cross_entropy(out.token_logits.float().view(-1, 2), labels.clamp(min=0).view(-1), reduction="none")
    token_loss = (ce * weights.view(-1))[valid.view(-1)].mean()
    span = out.span.float().clamp(1e-6, 1 - 1e-6)
    span_loss = F.binary_cross_entropy(span[valid], labels[valid].float())
    return token_loss + span_weight * span_loss


def collate(batch: list[Example], pad: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors: ids with the pad id, labels with the ignore index, weights with 0."""

    def padded(field: str, value: float, dtype: torch.dtype) -> torch.Tensor:
        return pad_sequence([torch.tensor(getattr(e, field), dtype=dtype) for e in batch], batch_first=True, padding_value=value)

    ids = padded("ids", pad, torch.long)
    mask = pad_sequence([torch.ones(len(e.ids), dtype=torch.long) for e in batch], batch_first=True)
    return {"ids": ids, "mask": mask, "labels": padded("labels", IGNORE, torch.long), "weights": padded("weights", 0.0, torch.float)}


def batches(examples: list[Example], size: int, seed: int) -> list[list[int]]:
    """Length-grouped batches in a seeded random order (transformers' LengthGroupedSampler order):
    little padding, still shuffled; the same seed gives the same plan, which resuming relies on."""
    if not examples:
        return []
    generator = torch.Generator().manual_seed(seed)
    order = get_length_grouped_indices([len(e.ids) for e in examples], size, generator=generator)
    return [order[i:i + size] for i in range(0, len(order), size)]


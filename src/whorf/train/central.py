"""A model's per-token outputs over whole documents, each word's tokens taken from the window where the
word is most central: the outputs inference decides with (``scoring.Scorer``), kept per token so a
student can learn them from windows cut anywhere.

    documents(items, loaded)             words -> pieces, prefix, decision threshold, token offsets
    central_outputs(net, docs, overlap)  [tokens, 3] per document: margin, span logit, final logit
    word_scores(outputs, doc, pooling)   the per-word final scores inference would pool
    shifted_windows(docs, rng)           training windows whose edges move every epoch
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from whorf import model as modeling
from whorf.scoring import WordTokens, Window, centrality, pack, pool, special_ids

EPS = 1e-5


@dataclass
class Doc:
    pieces: list[list[int]]
    prefix: list[int]
    threshold: float  # the model's decision threshold for this document's domain
    offsets: np.ndarray  # [words + 1]: first token of each word in the concatenated pieces
    target: np.ndarray | None = None  # [tokens, 3] the teacher's central outputs

    @property
    def tokens(self) -> int:
        return int(self.offsets[-1])


def documents(items, loaded: modeling.Loaded) -> list[Doc]:
    """One ``Doc`` per labelled row, tokenized and prefixed as inference does."""
    config = loaded.config
    tokens = WordTokens(loaded.tokenizer)
    prefixes: dict[str, list[int]] = {}
    out = []
    for item in items:
        text = config.domain_prefixes.get(item.domain, "") if config.use_domain_prefix else ""
        if text not in prefixes:
            prefixes[text] = tokens.prefix(text)
        pieces = tokens(item.words)
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in pieces], out=offsets[1:])
        out.append(Doc(pieces, prefixes[text], config.threshold + config.domain_bias.get(item.domain, 0.0), offsets))
    return out


def outputs(out: modeling.Output) -> torch.Tensor:
    """[B, L, 3]: token margin (keep logit minus drop logit), span logit, final-score logit."""
    margin = (out.token_logits[..., 1] - out.token_logits[..., 0]).float()
    return torch.stack([margin, torch.logit(out.span.float(), eps=EPS), torch.logit(out.final.float(), eps=EPS)], dim=-1)


def token_index(doc: Doc, window: Window) -> np.ndarray:
    """Per window token: its index in the document's tokens (a window holds its words' pieces in
    order), -1 for special and prefix tokens."""
    owner = np.asarray(window.word_of_token, dtype=np.int64)
    index = np.full(len(owner), -1, dtype=np.int64)
    index[owner >= 0] = np.arange(doc.offsets[window.start], doc.offsets[window.end])
    return index


def pad_rows(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (ids, attention mask) of token id rows."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return ids, mask


def batched(wins: list[tuple[int, Window]], size: int, pad: int):
    """(members, ids, mask) batches of windows sorted by length."""
    order = sorted(range(len(wins)), key=lambda i: len(wins[i][1].ids))
    for b in range(0, len(order), size):
        members = [wins[i] for i in order[b:b + size]]
        yield (members, *pad_rows([w.ids for _, w in members], pad))


@torch.inference_mode()
def central_outputs(net: modeling.DualHead, docs: list[Doc], tokenizer, max_length: int, overlap: float,
                    batch_size: int = 32, bf16: bool = False) -> list[np.ndarray]:
    """Each document's [tokens, 3] outputs, every word's tokens from its most central window."""
    net.eval()
    cls, sep, pad = special_ids(tokenizer)
    wins = [(d, w) for d, doc in enumerate(docs) if doc.pieces
            for w in pack(d, doc.pieces, doc.prefix, max_length, cls, sep, overlap)]
    result = [np.zeros((doc.tokens, 3), dtype=np.float32) for doc in docs]
    best = [np.full(len(doc.pieces), -1.0) for doc in docs]
    sizes = [np.diff(doc.offsets) for doc in docs]
    for members, ids, mask in batched(wins, batch_size, pad):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            got = outputs(net(ids, mask)).float().numpy()
        for row, (d, w) in enumerate(members):
            doc = docs[d]
            context = centrality(w, sizes[d], len(doc.pieces))
            better = context > best[d][w.start:w.end]
            best[d][w.start:w.end][better] = context[better]
            index = token_index(doc, w)
            owner = np.asarray(w.word_of_token)
            take = owner >= 0
            take[take] = better[owner[take]]
            result[d][index[take]] = got[row, :len(w.ids)][take]
    return result


def word_scores(out: np.ndarray, doc: Doc, pooling: str) -> np.ndarray:
    """Per-word final scores (pooled over each word's tokens), as inference computes them."""
    owner = np.repeat(np.arange(len(doc.pieces)), np.diff(doc.offsets))
    return pool(1.0 / (1.0 + np.exp(-out[:, 2])), owner, len(doc.pieces), pooling)


def shifted_windows(docs: list[Doc], tokenizer, max_length: int, rng: np.random.Generator) -> list[tuple[int, Window]]:
    """Windows without overlap whose first one is cut at a random length, so that every word sits at a
    different place (edges included) each epoch."""
    cls, sep, _ = special_ids(tokenizer)
    out = []
    for d, doc in enumerate(docs):
        if doc.pieces:
            budget = max_length - 2 - len(doc.prefix)
            first = int(rng.integers(1, budget + 1))
            out.extend((d, w) for w in pack(d, doc.pieces, doc.prefix, max_length, cls, sep, 0.0, first))
    return out

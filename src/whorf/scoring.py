"""Word scores for any number of texts: tokenize words, pack windows with overlap, batch, pool.

Each word is tokenized on its own (``is_split_into_words`` semantics), long words are scored from their
first pieces, and words are packed into windows of at most ``max_length`` tokens:
``[CLS] <domain prefix> words... [SEP]``. Consecutive windows overlap by a quarter of their budget and
a word's score comes from the window where it is most central (a document edge counts as perfect
context). Windows from all texts are batched together, sorted by length to minimise padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from whorf.runtime import Runtime

MAX_WORD_CHARS = 64
MAX_WORD_TOKENS = 12


@dataclass
class Window:
    doc: int
    start: int  # first word index
    end: int  # one past the last word index
    ids: list[int]
    word_of_token: list[int]  # word index (from ``start``) per token, -1 for special and prefix tokens


class WordTokens:
    """Per-word token ids with a cache (tool outputs repeat words a lot)."""

    def __init__(self, tokenizer, cache_size: int = 200_000):
        self.tokenizer = tokenizer
        self.cache: dict[str, list[int]] = {}
        self.cache_size = cache_size

    def __call__(self, words: Sequence[str]) -> list[list[int]]:
        missing = list({w[:MAX_WORD_CHARS] for w in words} - self.cache.keys())
        if missing:
            if len(self.cache) + len(missing) > self.cache_size:
                self.cache.clear()
            encoded = self.tokenizer(missing, add_special_tokens=False)["input_ids"]
            unk = self.tokenizer.unk_token_id
            for word, ids in zip(missing, encoded):
                self.cache[word] = (ids or [unk])[:MAX_WORD_TOKENS]
        return [self.cache[w[:MAX_WORD_CHARS]] for w in words]

    def count(self, words: Sequence[str]) -> int:
        """Backbone tokens of these words (long words estimated at 4 characters a token)."""
        total = 0
        for w, ids in zip(words, self(words)):
            total += len(ids) if len(w) <= MAX_WORD_CHARS and len(ids) < MAX_WORD_TOKENS else max(len(ids), len(w) // 4)
        return total


def special_ids(tokenizer) -> tuple[int, int, int]:
    cls = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    sep = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return int(cls), int(sep), int(pad)


def pack(doc: int, pieces: list[list[int]], prefix: list[int], max_length: int, cls: int, sep: int) -> list[Window]:
    """Windows over one document's words; consecutive windows overlap by a quarter of the budget."""
    budget = max(max_length - 2 - len(prefix), MAX_WORD_TOKENS)
    overlap = budget // 4
    windows: list[Window] = []
    n = len(pieces)
    start = 0
    while start < n:
        end, used = start, 0
        while end < n and used + len(pieces[end]) <= budget:
            used += len(pieces[end])
            end += 1
        ids = [cls, *prefix]
        owner = [-1] * (1 + len(prefix))
        for i in range(start, end):
            ids.extend(pieces[i])
            owner.extend([i - start] * len(pieces[i]))
        ids.append(sep)
        owner.append(-1)
        windows.append(Window(doc, start, end, ids, owner))
        if end >= n:
            break
        back, kept = end, 0
        while back > start + 1 and kept + len(pieces[back - 1]) <= overlap:
            kept += len(pieces[back - 1])
            back -= 1
        start = back
    return windows


def pool(scores: np.ndarray, owner: np.ndarray, n_words: int, how: str) -> np.ndarray:
    """Word scores from token scores: max (default), mean or first piece."""
    valid = owner >= 0
    owner, scores = owner[valid], scores[valid]
    out = np.full(n_words, -1.0, dtype=np.float32)
    if how == "max":
        np.maximum.at(out, owner, scores)
    elif how == "mean":
        total = np.zeros(n_words, dtype=np.float64)
        count = np.zeros(n_words, dtype=np.float64)
        np.add.at(total, owner, scores)
        np.add.at(count, owner, 1)
        seen = count > 0
        out[seen] = (total[seen] / count[seen]).astype(np.float32)
    elif how == "first":
        first = np.unique(owner, return_index=True)
        out[first[0]] = scores[first[1]]
    else:
        raise ValueError(f"unknown pooling {how!r}")
    return out


def centrality(window: Window, pieces: list[list[int]], n_words: int) -> dict[int, float]:
    """Tokens of context on the thinner side of each word in this window (inf at a document edge)."""
    out: dict[int, float] = {}
    left = 0
    total = sum(len(pieces[i]) for i in range(window.start, window.end))
    for i in range(window.start, window.end):
        size = len(pieces[i])
        l = left if window.start > 0 else float("inf")
        r = total - left - size if window.end < n_words else float("inf")
        out[i] = min(l, r)
        left += size
    return out


class Scorer:
    def __init__(self, tokenizer, runtime: Runtime, max_length: int = 512, pooling: str = "max", batch_size: int = 16):
        self.tokens = WordTokens(tokenizer)
        self.runtime = runtime
        self.max_length = max_length
        self.pooling = pooling
        self.batch_size = batch_size
        self.cls, self.sep, self.pad = special_ids(tokenizer)
        self._prefix_cache: dict[str, list[int]] = {}

    def prefix_ids(self, prefix: str) -> list[int]:
        if prefix not in self._prefix_cache:
            self._prefix_cache[prefix] = self.tokens.tokenizer(prefix, add_special_tokens=False)["input_ids"] if prefix else []
        return self._prefix_cache[prefix]

    def windows(self, docs: Sequence[Sequence[str]], prefixes: Sequence[str]) -> tuple[list[Window], list[list[list[int]]]]:
        all_pieces = [self.tokens(words) for words in docs]
        windows: list[Window] = []
        for d, pieces in enumerate(all_pieces):
            if pieces:
                windows.extend(pack(d, pieces, self.prefix_ids(prefixes[d]), self.max_length, self.cls, self.sep))
        return windows, all_pieces

    def score(self, docs: Sequence[Sequence[str]], prefixes: Sequence[str]) -> list[np.ndarray]:
        """One float32 array of word scores per document."""
        windows, all_pieces = self.windows(docs, prefixes)
        results = [np.zeros(len(words), dtype=np.float32) for words in docs]
        best = [np.full(len(words), -1.0) for words in docs]
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
        for b in range(0, len(order), self.batch_size):
            batch = [windows[i] for i in order[b:b + self.batch_size]]
            width = max(len(w.ids) for w in batch)
            ids = np.full((len(batch), width), self.pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, w in enumerate(batch):
                ids[row, :len(w.ids)] = w.ids
                mask[row, :len(w.ids)] = 1
            scores = self.runtime(ids, mask)
            for row, w in enumerate(batch):
                owner = np.asarray(w.word_of_token, dtype=np.int64)
                word_scores = pool(scores[row, :len(owner)], owner, w.end - w.start, self.pooling)
                for i, c in centrality(w, all_pieces[w.doc], len(docs[w.doc])).items():
                    if c > best[w.doc][i]:
                        best[w.doc][i] = c
                        results[w.doc][i] = word_scores[i - w.start]
        return results

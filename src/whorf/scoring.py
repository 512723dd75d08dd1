"""Word scores for any number of texts: tokenize words, pack windows with overlap, batch, pool.

Tokenization is one fast-tokenizer call per batch of texts: the words of all texts (the distinct ones
not yet cached) go through ``tokenizers.Tokenizer.encode(words, is_pretokenized=True)`` and
``word_ids`` splits the pieces back per word. Byte-level BPE and SentencePiece backbones are
configured to add the prefix space, so a word is tokenized as it is in running text (``Ġerror``, not
``er`` + ``ror``). Long words are scored from their first pieces.

Words are packed into windows of at most ``max_length`` tokens (the model's, the length it was trained
at): ``[CLS] <domain prefix> words... [SEP]``. Consecutive windows overlap by ``overlap`` of their
budget (a quarter, the overlap whorf-mini was evaluated with: an eighth changed 2% of its keep
decisions on held-out rows, because words near a window edge score differently) and a
word's score comes from the window where it is most central (a document edge counts as perfect
context). Windows from all texts are batched together, sorted by length to minimise padding.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from whorf.runtime import Runtime

MAX_WORD_CHARS = 64
MAX_WORD_TOKENS = 12
MAX_PAD = 0.25  # most padding a window may carry in its batch (share of the batch width)
OVERLAP = 0.25  # fraction of a window's budget shared with the next window (less changes decisions: see docs/benchmarks.md)


@dataclass
class Window:
    doc: int
    start: int  # first word index
    end: int  # one past the last word index
    ids: list[int]
    word_of_token: list[int]  # word index (from ``start``) per token, -1 for special and prefix tokens


def _prefix_space(node) -> None:
    """Make byte-level / metaspace pre-tokenizers mark every word as preceded by a space."""
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "ByteLevel":
        node["add_prefix_space"] = True
    elif kind == "Metaspace":
        node["prepend_scheme"] = "always"
    elif kind == "Sequence":
        for inner in node.get("pretokenizers", []):
            _prefix_space(inner)


def backend(tokenizer):
    """A ``tokenizers.Tokenizer`` for words: a copy without truncation or padding, prefix space on.

    Accepts a ``tokenizers.Tokenizer`` or a transformers fast tokenizer (its ``backend_tokenizer``).
    """
    from tokenizers import Tokenizer

    raw = tokenizer if isinstance(tokenizer, Tokenizer) else getattr(tokenizer, "backend_tokenizer", None)
    if raw is None:
        raise TypeError(f"whorf needs a fast tokenizer (tokenizers.Tokenizer or a transformers *Fast one), not {type(tokenizer).__name__}")
    spec = json.loads(raw.to_str())
    spec["truncation"] = None
    spec["padding"] = None
    _prefix_space(spec.get("pre_tokenizer"))
    return Tokenizer.from_str(json.dumps(spec))


def special_ids(tokenizer) -> tuple[int, int, int]:
    """(cls, sep, pad) ids of a transformers tokenizer or a ``tokenizers.Tokenizer``."""
    if hasattr(tokenizer, "cls_token_id"):
        cls = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
        sep = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        return int(cls), int(sep), int(pad)
    enc = tokenizer.encode("a", add_special_tokens=True)
    specials = [i for i, m, a in zip(enc.ids, enc.special_tokens_mask, enc.attention_mask) if m and a]  # not padding
    if len(specials) < 2:
        raise ValueError("the tokenizer's post-processor adds no start/end tokens ([CLS]/[SEP] or <s>/</s>)")
    padding = tokenizer.padding
    pad = padding["pad_id"] if padding else _first_id(tokenizer, ("[PAD]", "<pad>", "<|padding|>"), 0)
    return int(specials[0]), int(specials[-1]), int(pad)


def unk_id(tokenizer, raw) -> int:
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is None:
        name = json.loads(raw.to_str()).get("model", {}).get("unk_token")
        unk = raw.token_to_id(name) if name else None
    return int(unk) if unk is not None else special_ids(tokenizer)[2]


def _first_id(tok, names: Sequence[str], default: int) -> int:
    for name in names:
        found = tok.token_to_id(name)
        if found is not None:
            return found
    return default


class WordTokens:
    """Per-word token ids from one pre-tokenized encode call per batch, with a cache (tool outputs
    repeat words a lot; with ``is_pretokenized`` a word's pieces do not depend on its neighbours)."""

    def __init__(self, tokenizer, cache_size: int = 200_000):
        self.tokenizer = tokenizer
        self.backend = backend(tokenizer)
        self.unk = unk_id(tokenizer, self.backend)
        self.cache: dict[str, list[int]] = {}
        self.cache_size = cache_size

    def __call__(self, words: Sequence[str]) -> list[list[int]]:
        keys = [w[:MAX_WORD_CHARS] for w in words]
        cache = self.cache
        missing = [k for k in dict.fromkeys(keys) if k not in cache]
        if missing and len(cache) + len(missing) > self.cache_size:
            cache.clear()
            missing = list(dict.fromkeys(keys))
        if missing:
            self._encode(missing)
        return [cache[k] for k in keys]

    def _encode(self, words: list[str]) -> None:
        enc = self.backend.encode(words, is_pretokenized=True, add_special_tokens=False)
        pieces: list[list[int]] = [[] for _ in words]
        for token, word in zip(enc.ids, enc.word_ids):
            if word is not None:
                pieces[word].append(token)
        for word, ids in zip(words, pieces):
            self.cache[word] = (ids or [self.unk])[:MAX_WORD_TOKENS]

    def prefix(self, text: str) -> list[int]:
        """Token ids of a domain prefix (plain text, no special tokens)."""
        return self.backend.encode(text, add_special_tokens=False).ids if text else []

    def count(self, words: Sequence[str]) -> int:
        """Backbone tokens of these words (long words estimated at 4 characters a token)."""
        counts = Counter(words)  # each distinct word once (outputs repeat words a lot)
        total = 0
        for (w, n), ids in zip(counts.items(), self(list(counts))):
            total += n * (len(ids) if len(w) <= MAX_WORD_CHARS and len(ids) < MAX_WORD_TOKENS else max(len(ids), len(w) // 4))
        return total


def pack(doc: int, pieces: list[list[int]], prefix: list[int], max_length: int, cls: int, sep: int,
         overlap: float = OVERLAP) -> list[Window]:
    """Windows over one document's words; consecutive windows share ``overlap`` of the budget."""
    budget = max(max_length - 2 - len(prefix), MAX_WORD_TOKENS)
    shared = int(budget * overlap)
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
        while back > start + 1 and kept + len(pieces[back - 1]) <= shared:
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


def centrality(window: Window, sizes: np.ndarray, n_words: int) -> np.ndarray:
    """Tokens of context on the thinner side of each word of this window (inf at a document edge)."""
    size = sizes[window.start:window.end].astype(np.float64)
    left = np.cumsum(size) - size
    right = size.sum() - left - size
    if window.start == 0:
        left[:] = np.inf
    if window.end >= n_words:
        right[:] = np.inf
    return np.minimum(left, right)


class Scorer:
    def __init__(self, tokenizer, runtime: Runtime, max_length: int = 512, pooling: str = "max",
                 batch_size: int = 16, overlap: float = OVERLAP):
        if not 0.0 <= overlap < 1.0:
            raise ValueError(f"window overlap must be in [0, 1), not {overlap}")
        self.tokens = WordTokens(tokenizer)
        self.runtime = runtime
        self.max_length = max_length
        self.pooling = pooling
        self.batch_size = batch_size
        self.overlap = overlap
        self.cls, self.sep, self.pad = special_ids(tokenizer)
        self._prefix_cache: dict[str, list[int]] = {}

    def prefix_ids(self, prefix: str) -> list[int]:
        if prefix not in self._prefix_cache:
            self._prefix_cache[prefix] = self.tokens.prefix(prefix)
        return self._prefix_cache[prefix]

    def windows(self, docs: Sequence[Sequence[str]], prefixes: Sequence[str]) -> tuple[list[Window], list[list[list[int]]]]:
        flat = self.tokens([w for words in docs for w in words])  # one tokenizer call for the batch
        all_pieces, at = [], 0
        for words in docs:
            all_pieces.append(flat[at:at + len(words)])
            at += len(words)
        windows: list[Window] = []
        for d, pieces in enumerate(all_pieces):
            if pieces:
                windows.extend(pack(d, pieces, self.prefix_ids(prefixes[d]), self.max_length, self.cls, self.sep, self.overlap))
        return windows, all_pieces

    def batches(self, windows: list[Window]) -> list[tuple[list[Window], np.ndarray, np.ndarray]]:
        """(windows, input_ids, attention_mask) batches of similar lengths: longest first, and a window
        shorter than ``1 - MAX_PAD`` of its batch's width starts a new batch (a document's short last
        window is not padded to full length with the rest)."""
        order = sorted(range(len(windows)), key=lambda i: -len(windows[i].ids))
        groups: list[list[Window]] = []
        for i in order:
            w = windows[i]
            if not groups or len(groups[-1]) >= self.batch_size or len(w.ids) < (1 - MAX_PAD) * len(groups[-1][0].ids):
                groups.append([])
            groups[-1].append(w)
        out = []
        for batch in groups:
            width = len(batch[0].ids)
            ids = np.full((len(batch), width), self.pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, w in enumerate(batch):
                ids[row, :len(w.ids)] = w.ids
                mask[row, :len(w.ids)] = 1
            out.append((batch, ids, mask))
        return out

    def score(self, docs: Sequence[Sequence[str]], prefixes: Sequence[str]) -> list[np.ndarray]:
        """One float32 array of word scores per document."""
        windows, all_pieces = self.windows(docs, prefixes)
        sizes = [np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces)) for pieces in all_pieces]
        results = [np.zeros(len(words), dtype=np.float32) for words in docs]
        best = [np.full(len(words), -1.0) for words in docs]
        for batch, ids, mask in self.batches(windows):
            scores = self.runtime(ids, mask)
            for row, w in enumerate(batch):
                owner = np.asarray(w.word_of_token, dtype=np.int64)
                word_scores = pool(scores[row, :len(owner)], owner, w.end - w.start, self.pooling)
                context = centrality(w, sizes[w.doc], len(docs[w.doc]))
                better = context > best[w.doc][w.start:w.end]
                best[w.doc][w.start:w.end][better] = context[better]
                results[w.doc][w.start:w.end][better] = word_scores[better]
        return results

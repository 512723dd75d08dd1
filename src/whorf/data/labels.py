"""Word-level keep labels from a reference compression, from spans, or from given token labels.

Two rules for (text, reference) pairs:

- ``seed``: the seed's rule. A word is keep=1 if its lowercase form appears among the reference's
  lowercase words, or it matches the seed must-keep patterns. Set membership marks every "the" as kept
  whenever the reference has one.
- ``aligned`` (default): LLMLingua-2's order-preserving alignment. Reference words are matched in order
  to the first equal text word within ``window`` words after the previous match; matched words are
  keep=1, as is every word matching the must-keep profile.

Words are compared after lowercasing and stripping surrounding punctuation, so ``SIGILL,`` matches
``SIGILL``.

Labels from a reference or from spans are then made whole per phrase (``whorf.phrases``), the unit the
compressor decides in: a phrase is keep=1 when at least half of its words are, or when it holds a
must-keep word (a negation's object, a condition's clause). Given word labels are used as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from whorf import phrases
from whorf.patterns import Profile, load_profile
from whorf.segment import Segmented

RULES = ("aligned", "seed")
PHRASE_MAJORITY = 0.5  # share of a phrase's words labelled keep for the whole phrase to be


def check_rule(rule: str) -> str:
    if rule not in RULES:
        raise ValueError(f"unknown label rule {rule!r}: use one of {', '.join(RULES)}")
    return rule
_PUNCT = "\"'`.,;:!?()[]{}<>*_|"


def norm(word: str) -> str:
    return word.lower().strip(_PUNCT) or word.lower()


@dataclass
class Labels:
    keep: list[int]  # 0/1 per word
    must: list[bool]  # must-keep per word (loss weight 3.0)

    @property
    def keep_rate(self) -> float:
        return sum(self.keep) / len(self.keep) if self.keep else 1.0


def seed_rule(seg: Segmented, reference: str, profile: Profile | None = None) -> list[int]:
    profile = profile or load_profile("seed")
    ref_words = {w.lower() for w in reference.split()} | {norm(w) for w in reference.split()}
    must = profile.must_keep(seg.words, seg.text)
    return [int(w.text.lower() in ref_words or norm(w.text) in ref_words or m) for w, m in zip(seg.words, must)]


def aligned_rule(seg: Segmented, reference: str, must: Sequence[bool], window: int = 150) -> list[int]:
    text_words = [norm(w.text) for w in seg.words]
    keep = [int(m) for m in must]
    pointer = 0
    for ref in (norm(w) for w in reference.split()):
        for j in range(pointer, min(pointer + window, len(text_words))):
            if text_words[j] == ref:
                keep[j] = 1
                pointer = j + 1
                break
    return keep


def from_spans(seg: Segmented, spans: Sequence[dict], must: Sequence[bool]) -> list[int]:
    """keep=1 for every word that overlaps a character span (and every must-keep word)."""
    ranges = sorted((int(s["start"]), int(s["end"])) for s in spans if "start" in s and "end" in s)
    keep = [int(m) for m in must]
    j = 0
    for i, w in enumerate(seg.words):
        while j < len(ranges) and ranges[j][1] <= w.start:
            j += 1
        k = j
        while k < len(ranges) and ranges[k][0] < w.end:
            if ranges[k][1] > w.start:
                keep[i] = 1
                break
            k += 1
    return keep


def label(
    seg: Segmented,
    *,
    reference: str | None = None,
    spans: Sequence[dict] | None = None,
    word_labels: Sequence[int] | None = None,
    rule: str = "aligned",
    profile: str = "default",
) -> Labels:
    """Labels for one segmented text from whichever supervision the row has."""
    check_rule(rule)
    must = load_profile(profile).must_keep(seg.words, seg.text)
    if word_labels is not None:
        if len(word_labels) != len(seg.words):
            raise ValueError(f"{len(word_labels)} labels for {len(seg.words)} words")
        keep = [int(bool(x)) for x in word_labels]
    elif spans is not None:
        keep = from_spans(seg, spans, must)
    elif reference is not None:
        keep = seed_rule(seg, reference) if rule == "seed" else aligned_rule(seg, reference, must)
    else:
        raise ValueError("nothing to label from: no reference, spans or labels")
    if word_labels is None:
        keep = by_phrase(seg, keep, must)
    return Labels(keep, list(must))


def by_phrase(seg: Segmented, keep: Sequence[int], must: Sequence[bool]) -> list[int]:
    """Word labels made whole per phrase: a majority of kept words, or one must-keep word, keeps it all."""
    if not keep:
        return list(keep)
    ids = phrases.chunk(seg.words)
    share = phrases.pooled(np.asarray(keep, dtype=np.float32), ids)
    whole = (share >= PHRASE_MAJORITY - 1e-6) | phrases.whole(np.asarray(must, dtype=bool), ids)
    return whole.astype(int).tolist()

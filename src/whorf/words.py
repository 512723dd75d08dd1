"""Every input word with its decision, built on demand (``Compressed.words``): the word model decided the
words of the plan's ``words`` pieces; the structural stage decided the rest (kept, or inside an omission).
Only ``--json``, ``explain``, the dashboard and training rows ask for them, so a compression does not pay
for segmenting and must-keep matching every word of a large output again.
"""

from __future__ import annotations

from whorf.lexicon import WORD as _WORD
from whorf.patterns import Profile
from whorf.result import WordDecision
from whorf.segment import segment


def words_in(text: str, spans: list[tuple[int, int]]) -> int:
    """How many words of ``text`` start inside ``spans`` (the omitted originals)."""
    n = 0
    for start, end in spans:
        found = sum(1 for _ in _WORD.finditer(text, start, end))
        if found and start > 0 and not text[start - 1].isspace() and not text[start].isspace():
            found -= 1  # a word that began before the span
        n += found
    return n


class StructuralWords:
    """Every input word with its decision, built on demand: the model's inside ``words`` pieces, the
    structure's elsewhere (kept unless inside an omitted span; score 1.0 or 0.0, not a model score).
    ``must_keep`` says whether the profile's patterns protect the word, whoever decided it."""

    def __init__(self, text: str, model_words: list[WordDecision], omitted: list[tuple[int, int]], profile: Profile):
        self.text, self.model_words, self.omitted, self.profile = text, model_words, omitted, profile

    def __call__(self, limit: int | None = None) -> list[WordDecision]:
        text = self.text
        if limit is not None:  # only as far as the first ``limit`` words (a whole line more)
            ends = [m.end() for m, _ in zip(_WORD.finditer(text), range(limit))]
            cut = text.find("\n", ends[-1]) if ends else 0
            text = text if cut < 0 else text[:cut]
        by_start = {w.start: w for w in self.model_words}
        out: list[WordDecision] = []
        spans = iter(self.omitted)
        span = next(spans, None)
        seg = segment(text)
        must = self.profile.must_keep(seg.words, seg.text)
        for seg_word, protected in zip(seg.words, must):
            while span is not None and span[1] <= seg_word.start:
                span = next(spans, None)
            model = by_start.get(seg_word.start)
            if model is not None:
                out.append(model)
                continue
            dropped = span is not None and span[0] <= seg_word.start < span[1]
            out.append(WordDecision(seg_word.text, seg_word.start, seg_word.end, seg_word.line,
                                    0.0 if dropped else 1.0, not dropped, protected, by="structure"))
        return out if limit is None else out[:limit]

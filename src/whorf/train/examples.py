"""From labelled rows to training windows, with the same segmentation and windowing as inference."""

from __future__ import annotations

from dataclasses import dataclass

from whorf.config import ModelConfig
from whorf.data.labelled import LabelledRow, label_rows  # noqa: F401  (label_rows: the one labelling entry)
from whorf.scoring import WordTokens, pack, special_ids

IGNORE = -100


@dataclass
class Example:
    ids: list[int]
    labels: list[int]  # per token: 0/1, IGNORE for special, prefix and padding tokens
    weights: list[float]  # per token: must_weight for must-keep words, else 1.0
    doc: int = -1  # index of its row in the ``items`` given to ``windows``


def windows(items: list[LabelledRow], tokenizer, config: ModelConfig, must_weight: float = 3.0) -> list[Example]:
    tokens = WordTokens(tokenizer)
    cls, sep, _ = special_ids(tokenizer)
    prefix_cache: dict[str, list[int]] = {}
    out: list[Example] = []
    for doc, item in enumerate(items):
        prefix_text = config.prefix(item.domain)
        if prefix_text not in prefix_cache:
            prefix_cache[prefix_text] = tokens.prefix(prefix_text)  # the same call as inference (scoring.Scorer)
        pieces = tokens(item.words)
        for w in pack(doc, pieces, prefix_cache[prefix_text], config.max_length, cls, sep):
            labels, weights = [], []
            for local in w.word_of_token:
                if local < 0:
                    labels.append(IGNORE)
                    weights.append(0.0)
                else:
                    i = w.start + local
                    labels.append(item.labels.keep[i])
                    weights.append(must_weight if item.labels.must[i] else 1.0)
            out.append(Example(w.ids, labels, weights, doc))
    return out

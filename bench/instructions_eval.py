"""Instructions keep their meaning: do the phrases that carry an instruction survive compression?

    python bench/instructions_eval.py [--out docs/eval/instructions.json]   # also writes instructions.md

``bench/instructions/instructions.jsonl``: short instructions and warnings of the kind agents read (READMEs,
issues, review comments, runbooks), each with the phrases that must survive whole for it to keep its meaning
(the negated action with its object, the condition, the target of an imperative, a version with its
qualifier). Rows split by a hash of their text: half validation (for choosing thresholds; nothing is tuned
on it yet), half held-out (reported). A phrase survives when it appears whole, byte for byte, in the output;
a row is intact when all of its phrases survive. Systems, on the same rows: the word model alone; with the
must-keep override of the ``default`` profile and of the ``instructions`` profile (negation, prohibition and
condition clauses kept whole); the product path with a gain floor of 40 words (each row passes whole: by
construction, shown for what it costs); and the baselines identity, head+tail words at the model's keep
rate, the must-keep regex alone, random words plus the override.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from whorf import Compressor  # noqa: E402
from whorf.config import CompressOptions  # noqa: E402
from whorf.eval import baselines  # noqa: E402
from whorf.patterns import load_profile  # noqa: E402
from whorf.segment import rebuild, segment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "instructions" / "instructions.jsonl"


def rows() -> list[dict]:
    out = []
    for line in DATA.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            bucket = int(hashlib.sha256(row["text"].encode()).hexdigest()[:8], 16) % 100
            out.append({**row, "split": "held-out" if bucket < 50 else "validation"})
    return out


def outputs(comp: Compressor, data: list[dict]) -> dict[str, list[str]]:
    """Every system's output for every row."""
    texts = [r["text"] for r in data]
    plain = CompressOptions(store=False, structure=False)
    out = {"word model alone": [r.text for r in comp.words_alone(texts)],
           "whorf, override (default profile)": [r.text for r in comp.compress_batch(texts, plain)]}
    default_profile = comp.profile
    comp.profile = load_profile("instructions")
    out["whorf, override (instructions profile)"] = [r.text for r in comp.compress_batch(texts, plain)]
    comp.profile = default_profile
    floor = CompressOptions(store=False, min_prose_words=40)
    out["whorf, gain floor 40 words"] = [r.text for r in comp.compress_batch(texts, floor)]
    rate = statistics.mean(len(o.split()) / max(1, len(t.split())) for o, t in zip(out["word model alone"], texts))
    profile = load_profile("default")
    for name in ("identity", "head+tail words", "must-keep regex only", "random + override"):
        out[name] = [_baseline(name, t, profile, rate) for t in texts]
    return out


def _baseline(name: str, text: str, profile, rate: float) -> str:
    seg = segment(text)
    must = np.array(profile.must_keep(seg.words, text), dtype=bool)
    if name == "identity":
        keep = baselines.identity(seg)
    elif name == "head+tail words":  # the first and last words, at the model's keep rate
        n = len(seg.words)
        k = round(rate * n)
        keep = np.array([i < (k + 1) // 2 or i >= n - k // 2 for i in range(n)], dtype=bool)
    elif name == "must-keep regex only":
        keep = baselines.regex_only(must)
    else:
        keep = baselines.random_override(must, rate)
    return rebuild(seg, keep.tolist())


def measure(data: list[dict], outs: dict[str, list[str]]) -> list[dict]:
    results = []
    for system, texts in outs.items():
        for row, out in zip(data, texts):
            kept = [p in out for p in row["phrases"]]
            results.append({"id": row["id"], "split": row["split"], "kind": row["kind"], "system": system,
                            "phrases": len(kept), "phrases_kept": sum(kept), "intact": all(kept),
                            "word_keep": len(out.split()) / max(1, len(row["text"].split()))})
    return results


def page(report: dict) -> str:
    """docs/eval/instructions.md, from the report alone."""
    res = [r for r in report["results"] if r["split"] == "held-out"]
    systems = list(dict.fromkeys(r["system"] for r in res))
    n_rows = len({r["id"] for r in res})
    md = ["# Instructions keep their meaning", "",
          f"Command: `python bench/instructions_eval.py` (runtime {report['runtime']}, model {report['model']}). "
          f"{n_rows} held-out rows of `bench/instructions/instructions.jsonl` ({report['rows']} in all); a phrase "
          "survives when it appears whole in the output, a row is intact when all of its phrases do.", "",
          "| system | critical phrases kept | rows intact | word keep |", "|---|---|---|---|"]
    for s in systems:
        rs = [r for r in res if r["system"] == s]
        md.append(f"| {s} | {sum(r['phrases_kept'] for r in rs) / sum(r['phrases'] for r in rs):.3f} | "
                  f"{statistics.mean(r['intact'] for r in rs):.3f} | {statistics.mean(r['word_keep'] for r in rs):.3f} |")
    md += ["", "The gain-floor row holds largely by construction: a row under 40 words passes whole. It shows what the "
           "floor costs (its word keep), not what the model can do; the model's own figures are the rows above it."]
    kinds = sorted({r["kind"] for r in res})
    md += ["", "Rows intact per kind:", "", "| system | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for s in systems:
        cells = [f"{statistics.mean(r['intact'] for r in res if r['system'] == s and r['kind'] == k):.2f}" for k in kinds]
        md.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(md) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "eval" / "instructions.json")
    args = parser.parse_args()
    comp = Compressor()
    data = rows()
    report = {"runtime": comp.runtime.name, "model": comp.model_id, "rows": len(data),
              "results": measure(data, outputs(comp, data))}
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(page(report))
    sys.stdout.write(page(report))


if __name__ == "__main__":
    main()

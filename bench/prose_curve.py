"""Prose: reference-word recall against word keep, as a curve, on the held-out Q&A rows (the product path).

    python bench/prose_curve.py [--data ../shared/data/ultrawhale/kompress_train_split.jsonl] \
        [--model DIR] [--profile NAME|PATH] [--label NAME] [--json docs/eval/prose_curve.json]

Each held-out row (the fixed split by text hash that training never sees) is compressed at every threshold of
``--thresholds``, three ways: the product path (``whorf compress``'s defaults: structure, gain floors,
must-keep override), the product path with the gain floors off, and the model alone (no override, no
structure). Per point: word keep (output words / input words), reference-word recall (of the text's words
that the row's reference answer keeps, aligned in order, the share kept) and exact_keep_pct (the seed's
must-keep metric). The forced share (the words the must-keep profile forces before the model decides,
``bench/scopes.py``) is reported beside it. ``--json`` adds this run to the report under ``--label`` (a
before/after pair: run once with the old model and profile, once with the new).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

import reports  # bench/reports.py (bench/ is the script's directory)
from scopes import forced_shares

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from whorf import Compressor  # noqa: E402
from whorf.config import CompressOptions  # noqa: E402
from whorf.data import HELD_OUT, read  # noqa: E402
from whorf.data.labels import aligned_rule  # noqa: E402
from whorf.eval import metrics  # noqa: E402
from whorf.segment import segment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ultrawhale" / "kompress_train_split.jsonl"
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
SYSTEMS = {
    "product": dict(store=False),
    "product, floors off": dict(store=False, min_prose_words=0, min_saving_tokens=0),
    "model alone": dict(store=False, structure=False, override=False),
}


def held_out(path: Path) -> list:
    rows, _ = read(path)
    return [r for r in rows if r.split() == HELD_OUT and r.reference]


def point(comp: Compressor, rows: list, refs: list, options: dict, threshold: float) -> dict:
    recall, keep, exact = [], [], []
    for row, ref in zip(rows, refs):
        res = comp.compress(row.text, CompressOptions(threshold=threshold, **options))
        kept = np.array([w.kept for w in res.words], dtype=bool)
        if ref is not None and len(kept) == len(ref) and ref.any():
            recall.append(float((kept & ref).sum() / ref.sum()))
        keep.append(metrics.word_keep_rate(row.text, res.text))
        exact.append(metrics.exact_keep_pct(row.text, res.text))
    mean = (lambda xs: round(float(np.mean(xs)), 4) if xs else None)
    return {"threshold": threshold, "word_keep": mean(keep), "ref_recall": mean(recall), "exact_keep_pct": mean(exact),
            "rows_with_recall": len(recall)}


def curve(comp: Compressor, rows: list, thresholds: tuple[float, ...]) -> dict:
    refs = []
    for row in rows:
        seg = segment(row.text)
        refs.append(np.array(aligned_rule(seg, row.reference, [False] * len(seg.words)), dtype=bool))
    return {name: [point(comp, rows, refs, opts, t) for t in thresholds] for name, opts in SYSTEMS.items()}


def best_under(points: list[dict], keep: float = 0.60) -> dict | None:
    """The measured point of highest recall at word keep <= ``keep`` (no interpolation)."""
    under = [p for p in points if p["word_keep"] is not None and p["word_keep"] <= keep and p["ref_recall"] is not None]
    return max(under, key=lambda p: p["ref_recall"]) if under else None


def page(report: dict) -> str:
    md = ["# Prose: reference-word recall against word keep", "",
          "Command: `python bench/prose_curve.py --label LABEL --json docs/eval/prose_curve.json` (each run adds "
          "its label). Held-out Q&A rows (the fixed split by text hash that training never sees) of the data "
          "file; per threshold, word keep (output words / input words) and reference-word recall (of the "
          "words the reference answer keeps, aligned in order, the share kept), means over rows. `product`: "
          "`whorf compress` defaults (structure, gain floors, must-keep override); `floors off`: the same "
          "with min_prose_words and min_saving_tokens at 0; `model alone`: no override, no structure. "
          "Forced share: the words the must-keep profile forces before the model decides (`bench/scopes.py`).", ""]
    for label, run in report["runs"].items():
        md += [f"## {label}", "",
               f"Model {run['model']} ({run['model_dir']}, runtime {run['runtime']}, its threshold {run['threshold']}), "
               f"profile {run['profile']}; {run['rows']} held-out rows of {run['data']}; forced share "
               f"{run['forced']['forced']} (patterns {run['forced']['patterns']}, scopes {run['forced']['scopes']}).", "",
               "| threshold | " + " | ".join(f"{name}: keep / recall" for name in run["curve"]) + " |",
               "|---|" + "---|" * len(run["curve"])]
        thresholds = [p["threshold"] for p in next(iter(run["curve"].values()))]
        for k, t in enumerate(thresholds):
            cells = [f"{pts[k]['word_keep']:.3f} / {pts[k]['ref_recall']:.3f}" for pts in run["curve"].values()]
            md.append(f"| {t} | " + " | ".join(cells) + " |")
        md.append("")
        for name, points in run["curve"].items():
            best = best_under(points)
            verdict = "none measured" if best is None else (
                f"recall {best['ref_recall']:.3f} at keep {best['word_keep']:.3f} (threshold {best['threshold']}): "
                + ("meets" if best["ref_recall"] >= 0.90 else "short of") + " recall >= 0.90")
            md.append(f"- {name}, best point at word keep <= 0.60: {verdict}.")
        md.append("")
    return "\n".join(md) + "\n"


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (label, run), style in zip(report["runs"].items(), ("--", "-", ":", "-.")):
        for name, points in run["curve"].items():
            ax.plot([p["word_keep"] for p in points], [p["ref_recall"] for p in points], style, marker="o",
                    label=f"{name} ({label})")
    ax.axhline(0.90, color="grey", lw=0.8)
    ax.axvline(0.60, color="grey", lw=0.8)
    ax.set_xlabel("word keep (output words / input words)")
    ax.set_ylabel("reference-word recall")
    ax.set_title("Held-out Q&A prose: recall against word keep")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--model", default=None, help="model name or directory (default: the shipped default)")
    ap.add_argument("--profile", default=None, help="must-keep profile name or path (default: the model's)")
    ap.add_argument("--label", default="current")
    ap.add_argument("--thresholds", default=",".join(map(str, THRESHOLDS)))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    comp = Compressor(args.model, profile=args.profile) if args.model else Compressor(profile=args.profile)
    rows = held_out(args.data)
    thresholds = tuple(float(t) for t in args.thresholds.split(","))
    run = {"model": comp.model_id, "model_dir": str(args.model or "shipped"), "profile": comp.profile.name,
           "runtime": comp.runtime.name, "threshold": comp.config.threshold, "data": args.data.name, "rows": len(rows),
           "forced": forced_shares(str(args.data), args.profile or comp.config.profile), "curve": curve(comp, rows, thresholds)}
    for name, points in run["curve"].items():
        print(name + ": " + "; ".join(f"t={p['threshold']}: keep {p['word_keep']}, recall {p['ref_recall']}" for p in points))
    print(f"forced share {run['forced']['forced']}")
    if args.json:
        report = json.loads(args.json.read_text()) if args.json.exists() else {"runs": {}}
        report["runs"][args.label] = run
        reports.write(args.json, report, page)
        plot(report, args.json.with_suffix(".png"))


if __name__ == "__main__":
    sys.exit(main())

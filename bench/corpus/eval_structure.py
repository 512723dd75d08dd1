"""The structural stage on real program outputs and LogHub windows, measured in one run.

    python bench/corpus/eval_structure.py [--out docs/eval/structure.json]  # also writes structure.md beside it

Real-program corpus (tests/fixtures/programs, written by make_corpus.py): facts kept, structural checks
passed, character keep, token keep, for whorf with the structural stage, whorf's word model alone (the
stage off) and head+tail lines at whorf's character budget. LogHub: 300-line windows of the six systems
in ../shared/data/loghub (skipped when absent): ERROR/WARN-level lines kept, kept lines against
templates + errors + markers, character keep. Speed: a 10k-token log, with the stage and without.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from whorf import Compressor  # noqa: E402
from whorf.config import CompressOptions  # noqa: E402
from whorf.structure import checks  # noqa: E402
from whorf.structure.markers import MARKER_LINE  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "tests" / "fixtures" / "programs"
LOGHUB = ROOT.parent / "shared" / "data" / "loghub"
SEVERE = {"W", "E", "F", "Warning", "Error", "Critical", "Fatal", "WARN", "ERROR", "FATAL"}


def head_tail(src: str, fraction: float) -> str:
    """Whole lines from the start and the end within ``fraction`` of the characters (Codex CLI, Claude Code)."""
    lines = src.splitlines(keepends=True)
    budget = fraction * len(src)
    head, tail, used, i, j = [], [], 0, 0, len(lines) - 1
    while i <= j:
        for side in ("head", "tail"):
            if i > j:
                break
            line = lines[i] if side == "head" else lines[j]
            if used + len(line) > budget:
                return "".join(head + tail[::-1])
            used += len(line)
            if side == "head":
                head.append(line)
                i += 1
            else:
                tail.append(line)
                j -= 1
    return "".join(head + tail[::-1])


def corpus_rows(comp: Compressor) -> list[dict]:
    rows = []
    for meta_path in sorted(PROGRAMS.glob("*.json")):
        meta = json.loads(meta_path.read_text())
        src = meta_path.with_suffix(".txt").read_text()
        outs = {
            "whorf": comp.compress(src, CompressOptions(store=False)).text,
            "word model only": comp.compress(src, CompressOptions(structure=False, store=False)).text,
        }
        outs["head+tail (same chars)"] = head_tail(src, len(outs["whorf"]) / max(len(src), 1))
        for system, out in outs.items():
            problems = checks.run(meta["checks"], src, out)
            rows.append({
                "case": meta_path.stem, "system": system,
                "facts": sum(f in out for f in meta["facts"]), "facts_total": len(meta["facts"]),
                "checks": sum(not p for p in problems.values()), "checks_total": len(problems),
                "char_keep": len(out) / max(len(src), 1),
                "problems": [p for ps in problems.values() for p in ps][:3],
            })
    return rows


def loghub_rows(comp: Compressor, window: int = 300) -> list[dict]:
    rows = []
    if not LOGHUB.is_dir():
        return rows
    for system in sorted(p.name for p in LOGHUB.iterdir() if p.is_dir()):
        raw = (LOGHUB / system / f"{system}_2k.log").read_text(errors="replace").splitlines(keepends=True)
        truth = list(csv.DictReader(open(LOGHUB / system / f"{system}_2k.log_structured.csv", newline="")))
        for k in range(0, len(raw) - window + 1, window):
            src = "".join(raw[k:k + window])
            res = comp.compress(src, CompressOptions(store=False, domain="log"))
            out_lines = res.text.splitlines()
            kept = set(out_lines)
            part = truth[k:k + window]
            severe = [ln.rstrip("\r\n") for ln, t in zip(raw[k:k + window], part) if t.get("Level", "") in SEVERE]
            n_markers = sum(bool(MARKER_LINE.match(x)) for x in out_lines)
            rows.append({
                "system": system, "window": k,
                "severe": len(severe), "severe_kept": sum(s in kept for s in severe),
                "kept_lines": len(out_lines) - n_markers, "markers": n_markers,
                "templates": len({t["EventId"] for t in part}),
                "char_keep": len(res.text) / len(src),
            })
    return rows


def speed(comp: Compressor, repeats: int = 3) -> dict:
    lines = (PROGRAMS / "http_server_log.txt").read_text().splitlines(keepends=True)
    src = "".join(lines * 2)
    tokens = comp.compress(src, CompressOptions(store=False)).stats.tokens_in
    out = {"tokens": tokens}
    for name, opts in (("structure", CompressOptions(store=False)), ("word model only", CompressOptions(structure=False, store=False))):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            comp.compress(src, opts)
            times.append(time.perf_counter() - t)
        out[name] = statistics.median(times)
    out["speedup"] = out["word model only"] / out["structure"]
    return out


def summary(rows: list[dict], logs: list[dict], spd: dict) -> str:
    md = ["## Real-program corpus", "", "| system | facts kept | checks passed | mean char keep |", "|---|---|---|---|"]
    for system in dict.fromkeys(r["system"] for r in rows):
        rs = [r for r in rows if r["system"] == system]
        md.append(f"| {system} | {sum(r['facts'] for r in rs)}/{sum(r['facts_total'] for r in rs)} | "
                  f"{sum(r['checks'] for r in rs)}/{sum(r['checks_total'] for r in rs)} | "
                  f"{statistics.mean(r['char_keep'] for r in rs):.3f} |")
    md += ["", "| case | whorf char keep | facts | checks | problems |", "|---|---|---|---|---|"]
    for r in rows:
        if r["system"] == "whorf":
            md.append(f"| {r['case']} | {r['char_keep']:.3f} | {r['facts']}/{r['facts_total']} | "
                      f"{r['checks']}/{r['checks_total']} | {'; '.join(r['problems'])[:120]} |")
    if logs:
        md += ["", "## LogHub, 300-line windows", "",
               "| system | windows | ERROR/WARN lines kept | windows within templates+errors+markers | char keep |",
               "|---|---|---|---|---|"]
        for system in dict.fromkeys(r["system"] for r in logs):
            rs = [r for r in logs if r["system"] == system]
            within = sum(r["kept_lines"] <= r["templates"] + r["severe"] + r["markers"] for r in rs)
            md.append(f"| {system} | {len(rs)} | {sum(r['severe_kept'] for r in rs)}/{sum(r['severe'] for r in rs)} | "
                      f"{within}/{len(rs)} | {statistics.mean(r['char_keep'] for r in rs):.3f} |")
        md.append(f"| all | {len(logs)} | {sum(r['severe_kept'] for r in logs)}/{sum(r['severe'] for r in logs)} | "
                  f"{sum(r['kept_lines'] <= r['templates'] + r['severe'] + r['markers'] for r in logs)}/{len(logs)} | "
                  f"{statistics.mean(r['char_keep'] for r in logs):.3f} |")
    md += ["", "## Speed, one run", "",
           f"A {spd['tokens']}-token access log: {spd['structure'] * 1000:.0f} ms with the structural stage, "
           f"{spd['word model only'] * 1000:.0f} ms with the word model alone (median of 3): "
           f"{spd['speedup']:.1f}x faster."]
    return "\n".join(md) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "eval" / "structure.json"))
    parser.add_argument("--runtime", default="auto")
    args = parser.parse_args()
    comp = Compressor(runtime=args.runtime)
    rows, logs, spd = corpus_rows(comp), loghub_rows(comp), speed(comp)
    Path(args.out).write_text(json.dumps({"corpus": rows, "loghub": logs, "speed": spd}, indent=1) + "\n")
    text = summary(rows, logs, spd)
    Path(args.out).with_suffix(".md").write_text("# The structural stage, measured\n\nCommand: `python bench/corpus/eval_structure.py`"
                                                 f" (runtime {comp.runtime.name}, model {comp.model_id}).\n\n" + text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()

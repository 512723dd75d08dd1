"""The structural stage on real program outputs and LogHub windows, measured in one run.

    python bench/corpus/eval_structure.py [--out docs/eval/structure.json]  # also writes structure.md beside it

Real-program corpus (tests/fixtures/programs, written by make_corpus.py): per output and per shape, facts
kept, lines altered outside prose, structural checks passed, character keep and time, for whorf, whorf's word
model alone (the stage off), identity, head+tail lines at whorf's character budget and the peer headroom-ai
0.42 with its ML model off (when bench/corpus/setup_peer.sh has made its venv). LogHub: 300-line windows of the six systems
in ../shared/data/loghub (skipped when absent): ERROR/WARN-level lines kept, kept lines against
the first line of every ground-truth template, character keep. Speed: a 10k-token log, with the stage and without.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for reports.py
import reports  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from whorf import Compressor  # noqa: E402
from whorf.config import CompressOptions  # noqa: E402
from whorf.eval.baselines import head_tail_text  # noqa: E402
from whorf.structure import checks  # noqa: E402
from whorf.structure.markers import MARKER_LINE  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "tests" / "fixtures" / "programs"
LOGHUB = ROOT.parent / "shared" / "data" / "loghub"
SEVERE = {"W", "E", "F", "Warning", "Error", "Critical", "Fatal", "WARN", "ERROR", "FATAL"}


def head_tail(src: str, fraction: float) -> str:
    """Whole lines from the start and the end within ``fraction`` of the characters (Codex CLI, Claude Code):
    the library's baseline (whorf.eval.baselines.head_tail_text)."""
    return head_tail_text(src, int(fraction * len(src)))


PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"


def peer_outputs(texts: list[str], commands: list[str], repeats: int = 3) -> list[dict] | None:
    """headroom-ai's outputs and per-output milliseconds (median of ``repeats`` runs), or None when its venv
    (bench/corpus/setup_peer.sh) is not there."""
    if not PEER_PYTHON.exists():
        return None
    payload = json.dumps([{"text": t, "command": c} for t, c in zip(texts, commands)])
    runs = []
    for _ in range(repeats):
        proc = subprocess.run([str(PEER_PYTHON), str(ROOT / "bench" / "corpus" / "peer_headroom.py")], input=payload,
                              capture_output=True, text=True, timeout=1200)
        if proc.returncode != 0:
            sys.stderr.write(f"peer failed: {proc.stderr[-2000:]}\n")
            return None
        runs.append(json.loads(proc.stdout))
    return [{"text": rs[0]["text"], "ms": statistics.median(r["ms"] for r in rs)} for rs in zip(*runs)]


def timed(fn, repeats: int = 3) -> tuple[str, float]:
    times, out = [], ""
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return out, statistics.median(times)


def corpus_rows(comp: Compressor) -> list[dict]:
    cases = []
    for meta_path in sorted(PROGRAMS.glob("*.json")):
        meta = json.loads(meta_path.read_text())
        cases.append((meta_path.stem, meta, meta_path.with_suffix(".txt").read_text()))
    peer = peer_outputs([src for *_, src in cases], [m["command"] for _, m, _ in cases])
    rows = []
    for k, (name, meta, src) in enumerate(cases):
        whorf, ms = timed(lambda: comp.compress(src, CompressOptions(store=False)).text)
        outs = {"whorf": (whorf, ms),
                "word model only": (comp.compress(src, CompressOptions(structure=False, store=False)).text, None),
                "identity": (src, None),
                "head+tail (same chars)": (head_tail(src, len(whorf) / max(len(src), 1)), None)}
        if peer is not None:
            outs["headroom 0.42 (ML off)"] = (peer[k]["text"], peer[k]["ms"])
        for system, (out, ms) in outs.items():
            rows.append(_row(name, meta, src, system, out, ms))
    return rows


def _row(name: str, meta: dict, src: str, system: str, out: str, ms: float | None) -> dict:
    problems = checks.run(meta["checks"], src, out)
    shape = meta.get("shape", "")
    return {
        "case": name, "shape": shape, "system": system,
        "facts": sum(f in out for f in meta["facts"]), "facts_total": len(meta["facts"]),
        "checks": sum(not p for p in problems.values()), "checks_total": len(problems),
        # outside prose and JSON (re-encoded losslessly, checked by the json check), every output line
        # must be an input line or a marker
        "altered_lines": None if shape in ("markdown", "json", "json_records", "pip_json") else checks.altered_lines(src, out),
        "char_keep": len(out) / max(len(src), 1), "ms": ms,
        "problems": [p for ps in problems.values() for p in ps][:3],
    }


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
            firsts: dict[str, str] = {}
            for ln, t in zip(raw[k:k + window], part):
                firsts.setdefault(t["EventId"], ln.rstrip("\r\n"))
            rows.append({
                "system": system, "window": k,
                "severe": len(severe), "severe_kept": sum(s in kept for s in severe),
                "kept_lines": len(out_lines) - n_markers, "markers": n_markers,
                "templates": len({t["EventId"] for t in part}),
                "first_instances_kept": sum(f in kept for f in firsts.values()),
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


def _totals(rs: list[dict]) -> str:
    altered = [r["altered_lines"] for r in rs if r["altered_lines"] is not None]
    return (f"{sum(r['facts'] for r in rs)}/{sum(r['facts_total'] for r in rs)} | "
            f"{sum(altered) if altered else '-'} | {sum(r['checks'] for r in rs)}/{sum(r['checks_total'] for r in rs)} | "
            f"{statistics.mean(r['char_keep'] for r in rs):.3f}")


def summary(rows: list[dict], logs: list[dict], spd: dict) -> str:
    systems = list(dict.fromkeys(r["system"] for r in rows))
    md = ["## Real-program corpus", "",
          f"{len({r['case'] for r in rows})} outputs of real programs (`tests/fixtures/programs`, written by "
          "`bench/corpus/make_corpus.py`); facts are sampled at random from each output. Altered lines: output "
          "lines that are neither an input line nor a marker (JSON and Markdown are judged by their checks).", "",
          "| system | facts kept | altered lines | checks passed | mean char keep |", "|---|---|---|---|---|"]
    md += [f"| {system} | {_totals([r for r in rows if r['system'] == system])} |" for system in systems]
    md += ["", "Per shape (facts kept, altered lines, char keep):", "",
           "| shape | cases | " + " | ".join(systems) + " |", "|---|---|" + "---|" * len(systems)]
    for shape in sorted({r["shape"] for r in rows}):
        cells = []
        for system in systems:
            rs = [r for r in rows if r["shape"] == shape and r["system"] == system]
            altered = [r["altered_lines"] for r in rs if r["altered_lines"] is not None]
            cells.append(f"{sum(r['facts'] for r in rs)}/{sum(r['facts_total'] for r in rs)}, "
                         f"{sum(altered) if altered else '-'}, {statistics.mean(r['char_keep'] for r in rs):.2f}")
        md.append(f"| {shape} | {len(rs)} | " + " | ".join(cells) + " |")
    timed_systems = [s for s in systems if all(r["ms"] is not None for r in rows if r["system"] == s)]
    if len(timed_systems) > 1:
        md += ["", "Time per output, same outputs, one run (whorf: median of 3 calls; the peer: median of 3 runs of "
               "its compress call, its cache cleared before each):", ""]
        for system in timed_systems:
            ms = [r["ms"] for r in rows if r["system"] == system]
            md.append(f"- {system}: median {statistics.median(ms):.1f} ms, total {sum(ms):.0f} ms over {len(ms)} outputs")
    md += ["", "| case | shape | whorf char keep | facts | altered | checks | problems |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["system"] == "whorf":
            md.append(f"| {r['case']} | {r['shape']} | {r['char_keep']:.3f} | {r['facts']}/{r['facts_total']} | "
                      f"{'-' if r['altered_lines'] is None else r['altered_lines']} | "
                      f"{r['checks']}/{r['checks_total']} | {'; '.join(r['problems'])[:120]} |")
    if logs:
        md += _loghub(logs)
    md += ["", "## Speed, one run", "",
           f"A {spd['tokens']}-token access log: {spd['structure'] * 1000:.0f} ms with the structural stage, "
           f"{spd['word model only'] * 1000:.0f} ms with the word model alone (median of 3): "
           f"{spd['speedup']:.1f}x faster."]
    return "\n".join(md) + "\n"


def _loghub(logs: list[dict]) -> list[str]:
    md = ["", "## LogHub, 300-line windows", "",
          "| system | windows | ERROR/WARN lines kept | first line of every template kept | char keep |",
          "|---|---|---|---|---|"]
    for system in list(dict.fromkeys(r["system"] for r in logs)) + ["all"]:
        rs = logs if system == "all" else [r for r in logs if r["system"] == system]
        md.append(f"| {system} | {len(rs)} | {sum(r['severe_kept'] for r in rs)}/{sum(r['severe'] for r in rs)} | "
                  f"{sum(r['first_instances_kept'] for r in rs)}/{sum(r['templates'] for r in rs)} | "
                  f"{statistics.mean(r['char_keep'] for r in rs):.3f} |")
    return md


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "eval" / "structure.json"))
    parser.add_argument("--runtime", default="auto")
    args = parser.parse_args()
    comp = Compressor(runtime=args.runtime)
    rows, logs, spd = corpus_rows(comp), loghub_rows(comp), speed(comp)
    data = {"runtime": comp.runtime.name, "model": comp.model_id, "corpus": rows, "loghub": logs, "speed": spd}
    reports.write(args.out, data, page)
    sys.stdout.write(summary(rows, logs, spd))


def page(data: dict) -> str:
    """docs/eval/structure.md, from the report alone."""
    return ("# The structural stage, measured\n\nCommand: `python bench/corpus/eval_structure.py`"
            f" (runtime {data['runtime']}, model {data['model']}).\n\n" + summary(data["corpus"], data["loghub"], data["speed"]))


if __name__ == "__main__":
    main()

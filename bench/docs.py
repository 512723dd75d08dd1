"""Every figure in the README and docs/, generated from the committed reports (``make docs``).

    python bench/docs.py           # rewrite the generated parts
    python bench/docs.py --check   # exit 1, naming the files, when a generated part disagrees with its report

Reports (each written by the command that measures it): ``docs/eval/report.json`` (``whorf eval``, the word
model on held-out rows), ``docs/eval/structure.json`` (``bench/corpus/eval_structure.py``),
``docs/eval/query.json`` (``bench/query_eval.py``), ``docs/eval/session.json`` (``bench/session_replay.py``),
``docs/eval/instructions.json`` (``bench/instructions_eval.py``),
``docs/eval/speed.json`` (``bench/speed.py``). Each ``docs/eval/*.md`` is rendered whole from its report; in
the README a generated part sits between ``<!-- figure: NAME -->`` and ``<!-- /figure -->``, and each names
the runtime and model that produced its figures. Nothing here measures anything.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "docs" / "eval"
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "bench" / "corpus")]

BLOCK = re.compile(r"(<!-- figure: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /figure -->)", re.S)


def load(name: str) -> dict:
    """A report: a path under docs/eval, or under the repository when it starts with ``src/``."""
    return json.loads(((ROOT if name.startswith("src/") else EVAL) / name).read_text())


def _origin(data: dict, command: str) -> str:
    return f"`{command}`, runtime {data.get('runtime', '?')}, model {data.get('model', '?')}"


# --- the structural stage ------------------------------------------------------------------------------

STRUCTURE_ROWS = [  # (system in the report, how the README names it)
    ("whorf", "**whorf** (the default: structure, budget 12k tokens, word model on prose)"),
    ("word model only", "whorf's word model alone (the stage off)"),
    ("identity", "identity"),
    ("head+tail (same chars)", "head+tail lines at whorf's characters"),
    ("headroom 0.42 (ML off)", "headroom-ai 0.42, ML off (`bench/corpus/setup_peer.sh`)"),
]


def structure_table(data: dict) -> str:
    rows = data["corpus"]
    md = [f"{len({r['case'] for r in rows})} real program outputs ({_origin(data, 'python bench/corpus/eval_structure.py')}):",
          "", "| system, same outputs | facts kept | altered lines | structural checks | mean character keep | "
          "time per output (median) |", "|---|---|---|---|---|---|"]
    for system, label in STRUCTURE_ROWS:
        rs = [r for r in rows if r["system"] == system]
        if not rs:
            continue
        altered = [r["altered_lines"] for r in rs if r["altered_lines"] is not None]
        ms = [r["ms"] for r in rs if r["ms"] is not None]
        cells = [f"{sum(r['facts'] for r in rs)}/{sum(r['facts_total'] for r in rs)}", f"{sum(altered):,}",
                 f"{sum(r['checks'] for r in rs)}/{sum(r['checks_total'] for r in rs)}",
                 f"{statistics.mean(r['char_keep'] for r in rs):.3f}",
                 f"{statistics.median(ms):.1f} ms" if len(ms) == len(rs) else "-"]
        if system == "whorf":
            cells[:3] = [f"**{c}**" for c in cells[:3]]
        md.append(f"| {label} | " + " | ".join(cells) + " |")
    total = {system: sum(r["ms"] or 0 for r in rows if r["system"] == system) for system, _ in STRUCTURE_ROWS}
    peer = next((s for s in total if s.startswith("headroom") and total[s]), None)
    if peer and total.get("whorf"):
        ratio = total["whorf"] / total[peer]
        md += ["", f"Total time over the corpus, same run: whorf {total['whorf']:.0f} ms, headroom-ai "
               f"{total[peer]:.0f} ms ({ratio:.2f}x; the target <= 0.8x: **{'met' if ratio <= 0.8 else 'not met'}**)."]
    return "\n".join(md) + "\n"


def loghub(data: dict) -> str:
    logs = data["loghub"]
    if not logs:
        return "LogHub was not present when the report was written.\n"
    systems = list(dict.fromkeys(r["system"] for r in logs))
    worst = min(systems, key=lambda s: _ratio([r for r in logs if r["system"] == s]))
    w = [r for r in logs if r["system"] == worst]
    return (f"On LogHub ({len(logs)} windows of 300 lines from {len(systems)} systems, ground truth from the "
            f"structured CSVs): {sum(r['severe_kept'] for r in logs)}/{sum(r['severe'] for r in logs)} ERROR/WARN-level "
            f"lines kept; the first line of every ground-truth template: "
            f"{sum(r['first_instances_kept'] for r in logs)}/{sum(r['templates'] for r in logs)} (fewest: {worst}, "
            f"{sum(r['first_instances_kept'] for r in w)}/{sum(r['templates'] for r in w)}); mean character keep "
            f"{statistics.mean(r['char_keep'] for r in logs):.3f}. An access log of {data['speed']['tokens']:,} tokens: "
            f"{data['speed']['structure'] * 1000:.0f} ms with the structural stage, "
            f"{data['speed']['word model only'] * 1000:.0f} ms with the word model alone.\n")


def _ratio(rows: list[dict]) -> float:
    return sum(r["first_instances_kept"] for r in rows) / max(1, sum(r["templates"] for r in rows))


# --- the agent's intent ----------------------------------------------------------------------------------

def query_figures(data: dict) -> str:
    from query_eval import BUDGETS

    res = data["results"]

    def cell(system: str, budget: int) -> str:
        rs = [r for r in res if r["system"] == system and r["budget"] == budget]
        return f"{statistics.mean(r['recall'] for r in rs):.3f} / {statistics.mean(r['char_keep'] for r in rs):.3f}"

    systems = list(dict.fromkeys(r["system"] for r in res))
    t = data["timing"]
    md = [f"{len(data['rows'])} questions ({_origin(data, 'python bench/query_eval.py')}); recall of the answer "
          "lines / character keep, per budget in tokens:", "",
          "| budget | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    md += [f"| {b} | " + " | ".join(cell(s, b) for s in systems) + " |" for b in BUDGETS]
    md += ["", f"The query adds {t['median_added_ms']:.1f} ms to a 1k-token output (median over outputs, "
           f"{t['max_added_ms']:.1f} ms at most; {t['median_ms_without']:.1f} ms without it)."]
    return "\n".join(md) + "\n"


def session(data: dict) -> str:
    runs = data["runs"]
    off = sum(r["upstream_bytes"] for r in runs["no queries"]["turns"])
    md = [f"A {data['turns']}-turn session of real tool outputs (`python bench/session_replay.py`, api {data['api']}, "
          f"model {data['model']}), every request the whole history:", "",
          "| proxy | bytes upstream / without queries | answer lines kept | turns with every answer | prefix changes |",
          "|---|---|---|---|---|"]
    for name, run in runs.items():
        turns = run["turns"]
        up = sum(r["upstream_bytes"] for r in turns)
        md.append(f"| {name} | {up / off:.3f} | {sum(r['answers_kept'] for r in turns)}/{sum(r['answers'] for r in turns)} | "
                  f"{sum(r['answers_kept'] == r['answers'] for r in turns)}/{len(turns)} | "
                  f"{sum(r['prefix_changed'] for r in turns)} |")
    return "\n".join(md) + "\n"


def session_cost(data: dict) -> str:
    """The replayed session priced from the caching upstream's usage (bench/session_replay.py)."""
    from session_replay import cost_table

    runs = data["runs"]
    checks = {n: r["stats"]["cost_check"] for n, r in runs.items() if r["stats"].get("cost_check")}
    if not checks:
        return "The session report holds no usage (run `python bench/session_replay.py --api anthropic`).\n"
    return ("Measured in the replayed session (`python bench/session_replay.py`): its local upstream keeps a prompt "
            "cache per conversation and reports usage as a caching upstream does (the longest prefix shared with an "
            "earlier prompt read, the rest written; tokens as bytes / 4), for the same conversation sent directly "
            "and through the proxy:\n" + "\n".join(cost_table(runs)[1:]) + "\n")


def session_cost_line(data: dict) -> str:
    checks = {n: r["stats"]["cost_check"] for n, r in data["runs"].items() if r["stats"].get("cost_check")}
    if "no queries" not in checks:
        return "The session report holds no usage.\n"
    plain, q = checks["no queries"], checks.get("queries, 500 tokens")
    line = (f"Priced from a prompt-caching upstream's usage, the same session cost ${plain['proxied']['cost']:.4f} through the "
            f"proxy against ${plain['direct']['cost']:.4f} sent directly ({plain['saved_measured'] / plain['direct']['cost']:.0%} less")
    if q:
        line += f"; {q['saved_measured'] / q['direct']['cost']:.0%} less with the 500-token query budget"
    return line + (f"), cache hit rate {plain['proxied']['cache_hit_rate']:.3f} against {plain['direct']['cache_hit_rate']:.3f}; "
                   f"the proxy's own ledger equals the hand computation from the recorded usage in "
                   f"{sum(c['ledger_matches_hand'] for c in checks.values())}/{len(checks)} runs ([docs/proxy.md](docs/proxy.md)).\n")


def proxy(data: dict) -> str:
    run = data["runs"]["queries, 500 tokens"] if "queries, 500 tokens" in data["runs"] else next(iter(data["runs"].values()))
    turns = run["turns"]
    slow = max(turns, key=lambda r: r["added_ms"])
    return (f"In a {data['turns']}-turn replay of real tool outputs (`python bench/session_replay.py`, model "
            f"{data['model']}, default settings) the history the upstream saw changed "
            f"{sum(r['prefix_changed'] for r in turns)} times, the added latency stayed flat (median "
            f"{statistics.median(r['added_ms'] for r in turns[:5]):.0f} ms over the first five turns, "
            f"{statistics.median(r['added_ms'] for r in turns[-5:]):.0f} ms over the last five; at most "
            f"{slow['added_ms']:.0f} ms, turn {slow['turn']}) and "
            f"{sum(r['upstream_bytes'] for r in turns) / sum(r['original_bytes'] for r in turns):.2f} of the client's "
            "bytes went upstream.\n")


# --- the word model on held-out rows ------------------------------------------------------------------------

def heldout(data: dict) -> str:
    md = [f"`whorf eval` on the held-out split, runtime {data['runtime']}, model {data['model']}, the model alone "
          "(`whorf (no override)`); a baseline is listed where it beats the model on a metric:", "",
          "| held-out rows | exact_keep_pct, whole words | exact_keep_pct, seed substring | keep_rate | sem_sim | "
          "baselines that win |", "|---|---|---|---|---|---|"]
    for ds in data["datasets"]:
        s = ds["systems"]["whorf (no override)"]
        md.append(f"| {ds['name']} ({ds['rows_scored']}) | {s['exact_keep_pct_word']:.3f} | {s['exact_keep_pct']:.3f} | "
                  f"{s['keep_rate']:.3f} | {s['sem_sim']:.3f} | {_winners(ds['systems'], s)} |")
    teacher = load("whorf-mini/report.json")
    md += ["", f"Against the teacher {teacher['model']} (runtime {teacher['runtime']}, same rows), the model alone, "
           "exact whole words / keep_rate / sem_sim; and the student with the override:", "",
           "| held-out rows | teacher | student | student + override (keep_rate) |", "|---|---|---|---|"]
    old = {ds["name"]: ds["systems"]["whorf (no override)"] for ds in teacher["datasets"]}
    for ds in data["datasets"]:
        s, t = ds["systems"]["whorf (no override)"], old.get(ds["name"])
        cell = (lambda m: f"{m['exact_keep_pct_word']:.3f} / {m['keep_rate']:.3f} / {m['sem_sim']:.3f}")
        md.append(f"| {ds['name']} | {cell(t) if t else '-'} | {cell(s)} | {ds['systems']['whorf']['keep_rate']:.3f} |")
    return "\n".join(md) + "\n"


def _winners(systems: dict, model: dict) -> str:
    """Baselines (not identity, not whorf itself) beating the model's sem_sim or F1, at what keep."""
    out = []
    for name, s in systems.items():
        if name.startswith("whorf") or name == "identity":
            continue
        wins = [f"{m} **{s[m]:.3f}**" for m in ("sem_sim", "f1") if s[m] > model[m]]
        if wins:
            out.append(f"{name}: {s['keep_rate']:.3f} keep, " + ", ".join(wins))
    return "; ".join(out) or "none"


# --- meaning: instructions and Q&A ---------------------------------------------------------------------

def meaning(data: dict) -> str:
    """Instruction phrases kept (instructions.json) beside Q&A reference-word recall (report.json)."""
    from instructions_eval import chunker_lines, summary_row

    res = [r for r in data["results"] if r["split"] == "held-out"]
    systems = [s for s in dict.fromkeys(r["system"] for r in res) if not s.startswith(("identity", "head", "random"))]
    md = [f"`python bench/instructions_eval.py`, runtime {data['runtime']}, model {data['model']}: "
          f"{len({r['id'] for r in res})} held-out instructions and warnings (gain floors off unless named):", "",
          "| system | critical phrases kept | rows intact | word keep |", "|---|---|---|---|"]
    md += [summary_row(res, s) for s in systems]
    md += chunker_lines()
    report = load("report.json")
    sets = {d["name"]: d for d in report["datasets"]}
    qa, heretic = sets.get("kompress_train_split"), sets.get("heretic_train")
    if qa:
        o, a = qa["systems"]["whorf"], qa["systems"]["whorf (no override)"]
        md += ["", f"Q&A held-out rows (`whorf eval`, kompress_train_split, {qa['rows_scored']} rows, runtime "
               f"{report['runtime']}): with the override, reference-word recall {o['ref_recall']:.3f} at word keep "
               f"{o['word_keep_rate']:.3f} (the model alone: {a['ref_recall']:.3f} at {a['word_keep_rate']:.3f})"
               + (f"; heretic rows, the model alone: exact_keep_pct {heretic['systems']['whorf (no override)']['exact_keep_pct']:.3f}"
                  if heretic else "") + "."]
    return "\n".join(md) + "\n"


# --- speed ----------------------------------------------------------------------------------------------

SPEED_TARGETS = (("default vs the baseline on 10k-token prose", 3.0), ("1k-token output, ms", 80.0),
                 ("default vs the best replica", 25.0))


def speed(data: dict) -> str:
    from speed import summary_lines

    ratios, default = data["ratios"], data["output_1k"]["auto (default)"]["median_ms"]
    got = (ratios["default_vs_baseline"], default, ratios.get("default_vs_best_replica"))
    verdicts = []
    for (name, target), value in zip(SPEED_TARGETS, got):
        if value is None:
            continue
        met = value <= target if name.endswith("ms") else value >= target
        shown = f"{value:.1f} ms" if name.endswith("ms") else f"{value:.2f}x"
        verdicts.append(f"{name}: {shown} against {target:g}{' ms' if name.endswith('ms') else 'x'} "
                        f"(**{'met' if met else 'not met'}**)")
    return "\n".join(summary_lines(data) + ["", "Targets: " + "; ".join(verdicts) + "."]) + "\n"


def gate(meta: dict) -> str:
    """The shipped graph's recipe and gates, from its onnx.json."""
    md = [f"whorf-micro's shipped graph (`src/whorf/models/whorf-micro/onnx.json`): {meta['quantization']}.", "",
          "| candidate | against | rows (words) | keep-decision agreement | model-alone exact_keep_pct | drop | gate |",
          "|---|---|---|---|---|---|---|"]
    for key in ("gate", "teacher_gate"):
        g = meta.get(key)
        if g:
            md.append(f"| {g['candidate']} | {g['reference']} | {g['rows']} ({g['words']:,}) | {g['agreement']:.4f} | "
                      f"{g['exact_keep_pct_reference']:.4f} -> {g['exact_keep_pct_candidate']:.4f} | "
                      f"{g['exact_keep_pct_drop']:+.4f} | {'pass' if g['passed'] else 'not passed'} (>= 0.99, <= 0.005) |")
    return "\n".join(md) + "\n"


def proxy_load(runs: list) -> str:
    md = ["| load | proxy settings | added latency p50 / p99 | compressed | shed / failed | pairs logged |",
          "|---|---|---|---|---|---|"]
    for r in runs:
        md.append(f"| {r['requests']} requests, concurrency {r['concurrency']}, {r['tool_tokens']}-token output, "
                  f"{r['model']} | deadline {r['deadline_ms'] / 1000:g} s, max queue {r['max_queue']} | "
                  f"{r['added_p50_ms']:,.0f} / {r['added_p99_ms']:,.0f} ms | {r['compressed']} / {r['seen']} | "
                  f"{r['shed']} / {r['failures']} | {r['pairs']} |")
    return "\n".join(md) + "\n"


def large(data: dict) -> str:
    """The large-input times (bench/large.py)."""
    rows = data["rows"]
    parts = []
    for name, what in (("log_2mb", "log"), ("json_3mb", "JSON array of records")):
        r = rows[name]
        tokens = f", {r['o200k_in']:,} -> {r['o200k_out']:,} o200k tokens" if "o200k_in" in r else ""
        parts.append(f"a {r['chars'] / 1e6:.1f} MB {what} in {r['median_s']:.2f} s (range {r['range_s'][0]:.2f}-"
                     f"{r['range_s'][1]:.2f}{tokens})")
    met = all(rows[n]["median_s"] <= 1.0 for n in rows)
    return (f"Large inputs (`python bench/large.py --json docs/eval/large.json`, runtime {data['runtime']}, model "
            f"{data['model']}, {data['cores']} cores, median of {data['repeats']}): " + "; ".join(parts)
            + f". Target <= 1 s each: **{'met' if met else 'not met'}**.\n")


def prose_curve(data: dict) -> str:
    """Best measured points at word keep <= 0.60 per run of bench/prose_curve.py."""
    from prose_curve import best_under

    names = list(next(iter(data["runs"].values()))["curve"])
    md = ["Held-out Q&A prose ([docs/eval/prose_curve.md](docs/eval/prose_curve.md), `python bench/prose_curve.py`): "
          "the highest reference-word recall measured at word keep <= 0.60 (recall / keep, its threshold); the "
          "target is recall >= 0.90 there.", "",
          "| run | forced share | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for label, run in data["runs"].items():
        cells = []
        for name in names:
            b = best_under(run["curve"][name])
            cells.append("-" if b is None else f"{b['ref_recall']:.3f} / {b['word_keep']:.3f} ({b['threshold']})")
        md.append(f"| {label} | {run['forced']['forced']:.3f} | " + " | ".join(cells) + " |")
    return "\n".join(md) + "\n"


FIGURES: dict[str, tuple[str, Callable[[dict], str]]] = {
    "large": ("large.json", large), "prose-curve": ("prose_curve.json", prose_curve),
    "structure": ("structure.json", structure_table), "loghub": ("structure.json", loghub),
    "query": ("query.json", query_figures), "session": ("session.json", session), "proxy": ("session.json", proxy),
    "heldout": ("report.json", heldout), "meaning": ("instructions.json", meaning), "session-cost": ("session.json", session_cost),
    "session-cost-line": ("session.json", session_cost_line), "speed": ("speed.json", speed),
    "gate": ("src/whorf/models/whorf-micro/onnx.json", gate), "proxy-load": ("proxy_load.json", proxy_load),
}
from docs_pages import FIGURES as PAGE_FIGURES  # noqa: E402 - the docs pages' own (student, self-labeling, ...)

FIGURES.update(PAGE_FIGURES)


def pages() -> dict[Path, str]:
    """Each docs/eval page rendered whole from its report."""
    from eval_structure import page as structure_page
    from instructions_eval import page as instructions_page
    from query_eval import page as query_page
    from session_replay import page as session_page

    from whorf.eval.report import to_markdown

    out = {EVAL / "structure.md": structure_page(load("structure.json")),
           EVAL / "query.md": query_page(load("query.json")),
           EVAL / "session.md": session_page(load("session.json")),
           EVAL / "instructions.md": instructions_page(load("instructions.json"))}
    for report in (EVAL / "report.json", EVAL / "whorf-mini" / "report.json"):
        data = json.loads(report.read_text())
        out[report.with_suffix(".md")] = to_markdown(data, data.get("regressions"))
    return out


def with_figures(text: str) -> str:
    """``text`` with every generated part rendered again from its report."""
    def render(m: re.Match) -> str:
        report, fn = FIGURES[m.group("name")]
        return m.group(1) + fn(load(report)) + m.group(4)

    return BLOCK.sub(render, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report the files that disagree")
    args = parser.parse_args()
    wanted = pages()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        wanted[page] = with_figures(page.read_text())
    stale = [p for p, text in wanted.items() if not p.is_file() or p.read_text() != text]
    if args.check:
        for p in stale:
            print(f"{p.relative_to(ROOT)} disagrees with its report: run `make docs`")
        return 1 if stale else 0
    for p in stale:
        p.write_text(wanted[p])
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

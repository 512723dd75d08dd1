"""The agent's intent, measured: recall of the lines that answer a question against character keep.

    python bench/query_eval.py [--out docs/eval/query.json]   # also writes query.md beside it

Each row is a question an agent would ask, the output of the real command it would run (on this
repository at a fixed commit and the Python standard library), and the lines that answer it. Questions are drawn at random
(fixed seed) from the output's own entries: a function to look up, a package version, a file to open, a
commit to find. At each budget, recall is the share of answer lines present whole in the output (for JSON,
the answer record's values), for whorf with the query, whorf without it, BM25 alone (the lines ranked by
BM25 against the question, kept in input order up to whorf-with-query's characters) and head+tail lines
at the same characters. The question names what it looks for, as an agent's request does (a function,
a package, a file); which entry is asked about is random, so any entry may be the one.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shlex as shlex_module
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reports  # bench/reports.py (bench/ is the script's directory)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from whorf import Compressor  # noqa: E402
from whorf.config import CompressOptions  # noqa: E402
from whorf.structure import relevance  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))
from eval_structure import head_tail  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STDLIB = Path(shlex_module.__file__).parent
BUDGETS = (250, 500, 1000)
# the repository's history and sources at a fixed commit, so the questions and outputs do not move with
# every later commit
REV = "ce629de5db84a5f072563bc5823e6b90c721be50"


def run(cmd: list[str], cwd: Path = ROOT) -> str:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120).stdout


def rows(rng: random.Random, repo: Path) -> list[dict]:
    """The questions; ``repo`` is a checkout of this repository at ``REV``."""
    out: list[dict] = []
    grep = run(["git", "grep", "-n", "def ", "--", "src"], repo)
    defs = [ln for ln in grep.splitlines() if re.search(r"def (\w+)\(", ln)]
    for ln in rng.sample(defs, 8):
        name = re.search(r"def (\w+)\(", ln).group(1)
        out.append(row("git_grep", f"where is {name} defined?", grep, [ln]))
    oneline = run(["git", "log", "--oneline"], repo)
    for ln in rng.sample(oneline.splitlines(), 6):
        words = [w for w in re.findall(r"[A-Za-z_]{6,}", ln.split(" ", 1)[1])]
        out.append(row("git_log_oneline", f"which commit changed {' '.join(words[:2])}?", oneline, [ln]))
    files = run(["find", str(STDLIB / "email"), str(STDLIB / "json"), str(STDLIB / "concurrent"), str(STDLIB / "xml"),
                 "-name", "*.py"])
    for ln in rng.sample(files.splitlines(), 6):
        out.append(row("find", f"open the {Path(ln).stem} module of {Path(ln).parent.name}", files, [ln]))
    listing = run(["ls", "-l", "/usr/bin"])
    for ln in rng.sample(listing.splitlines()[1:], 6):
        name = ln.split(" -> ")[0].split()[-1]  # a symbolic link's own name, not its target
        out.append(row("ls_long", f"is {name} installed and how big is it?", listing, [ln]))
    pip = run([sys.executable, "-m", "pip", "list", "--format=json"])
    for item in rng.sample(json.loads(pip), 6):
        out.append(row("pip_json", f"which version of {item['name']} do we have?", pip,
                       [json.dumps(item["name"]), json.dumps(item["version"])]))
    for module in ("shlex.py", "textwrap.py", "queue.py"):
        source = (STDLIB / module).read_text()
        funcs = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.end_lineno - n.lineno >= 4]
        for node in rng.sample(funcs, 3):
            lines = source.splitlines()[node.lineno - 1:node.end_lineno]
            out.append(row("code", f"how does {node.name} work?", source, [ln for ln in lines if ln.strip()]))
    return out


def row(shape: str, question: str, output: str, answer: list[str]) -> dict:
    assert all(a in output for a in answer), (shape, question)
    return {"shape": shape, "query": question, "output": output, "answer": answer}


def recall(out: str, answer: list[str]) -> float:
    lines = set(out.splitlines())
    hits = [a in lines or (a.startswith('"') and a in out) for a in answer]
    return sum(hits) / len(hits)


def bm25_alone(text: str, query: str, chars: int) -> str:
    lines = text.splitlines(keepends=True)
    scores = relevance.scores([ln for ln in lines], query)
    keep, used = set(), 0
    for i in sorted(range(len(lines)), key=lambda i: -scores[i]):
        if used + len(lines[i]) > chars:
            continue
        keep.add(i)
        used += len(lines[i])
    return "".join(lines[i] for i in sorted(keep))


def measure(comp: Compressor, data: list[dict]) -> list[dict]:
    results = []
    for r in data:
        alone = comp.compress(r["output"], CompressOptions(store=False, structure=False)).text  # no budget of its own
        for budget in BUDGETS:
            opts = CompressOptions(store=False, budget_tokens=budget)
            t = time.perf_counter()
            with_q = comp.compress(r["output"], opts, query=r["query"]).text
            ms_q = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            without = comp.compress(r["output"], opts).text
            ms = (time.perf_counter() - t) * 1000
            n = max(len(r["output"]), 1)
            outs = {"whorf + query": with_q, "whorf, no query": without,
                    "BM25 alone": bm25_alone(r["output"], r["query"], len(with_q)),
                    "head+tail": head_tail(r["output"], len(with_q) / n), "word model alone": alone}
            for system, out in outs.items():
                results.append({"shape": r["shape"], "query": r["query"], "budget": budget, "system": system,
                                "recall": recall(out, r["answer"]), "char_keep": len(out) / n,
                                "ms": {"whorf + query": ms_q, "whorf, no query": ms}.get(system)})
    return results


def timing(comp: Compressor, data: list[dict], chars: int = 4000, repeats: int = 7) -> dict:
    """What the query adds to a 1k-token output (the first ``chars`` characters of each output, whole lines,
    a 250-token budget so that relevance decides): medians over ``repeats``, per row, then over rows."""
    opts = CompressOptions(store=False, budget_tokens=BUDGETS[0])
    added, base = [], []
    for r in data:
        text = r["output"][:chars].rsplit("\n", 1)[0]
        times = {}
        for query in (None, r["query"]):
            samples = []
            for _ in range(repeats):
                t = time.perf_counter()
                comp.compress(text, opts, query=query)
                samples.append((time.perf_counter() - t) * 1000)
            times[query is not None] = statistics.median(samples)
        added.append(times[True] - times[False])
        base.append(times[False])
    return {"chars": chars, "repeats": repeats, "median_ms_without": statistics.median(base),
            "median_added_ms": statistics.median(added), "max_added_ms": max(added)}


def summary(results: list[dict], n_rows: int, times: dict) -> str:
    systems = list(dict.fromkeys(r["system"] for r in results))
    md = [f"{n_rows} questions over real outputs (git grep, git log --oneline, find, ls -l, pip list --format=json, "
          "stdlib source files). Mean recall of answer lines / mean character keep, per budget (tokens):", "",
          "| budget | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for budget in BUDGETS:
        cells = []
        for s in systems:
            rs = [r for r in results if r["budget"] == budget and r["system"] == s]
            cells.append(f"{statistics.mean(r['recall'] for r in rs):.3f} / {statistics.mean(r['char_keep'] for r in rs):.3f}")
        md.append(f"| {budget} | " + " | ".join(cells) + " |")
    md += ["", f"Per shape at a budget of {BUDGETS[0]} tokens (recall / char keep):", "",
           "| shape | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for shape in dict.fromkeys(r["shape"] for r in results):
        cells = []
        for s in systems:
            rs = [r for r in results if r["budget"] == BUDGETS[0] and r["system"] == s and r["shape"] == shape]
            cells.append(f"{statistics.mean(r['recall'] for r in rs):.2f} / {statistics.mean(r['char_keep'] for r in rs):.2f}")
        md.append(f"| {shape} | " + " | ".join(cells) + " |")
    q = [r["ms"] for r in results if r["system"] == "whorf + query"]
    nq = [r["ms"] for r in results if r["system"] == "whorf, no query"]
    md += ["", f"Time per output: with the query median {statistics.median(q):.1f} ms, without "
           f"{statistics.median(nq):.1f} ms (one run, same outputs).",
           "", f"On 1k-token outputs (the first {times['chars']:,} characters of each, a {BUDGETS[0]}-token budget, "
           f"median of {times['repeats']} runs each): without the query {times['median_ms_without']:.1f} ms; the query "
           f"adds {times['median_added_ms']:.2f} ms (median over outputs), {times['max_added_ms']:.2f} ms at most.",
           "", "The word model alone has no budget: its recall and keep are the same in every row of the first table."]
    return "\n".join(md) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "eval" / "query.json"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    comp = Compressor()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(repo), REV], cwd=ROOT, check=True)
        try:
            data = rows(random.Random(args.seed), repo)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(repo)], cwd=ROOT, check=True)
    results = measure(comp, data)
    times = timing(comp, data)
    report = {"runtime": comp.runtime.name, "model": comp.model_id,
              "rows": [{k: v for k, v in r.items() if k != "output"} for r in data], "results": results, "timing": times}
    reports.write(args.out, report, page)
    sys.stdout.write(summary(results, len(data), times))


def page(report: dict) -> str:
    """docs/eval/query.md, from the report alone."""
    return ("# The agent's intent, measured\n\nCommand: `python bench/query_eval.py` "
            f"(runtime {report['runtime']}, model {report['model']}).\n\n"
            + summary(report["results"], len(report["rows"]), report["timing"]))


if __name__ == "__main__":
    main()

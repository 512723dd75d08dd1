"""Byte-identical outputs across a refactor: save what whorf prints for a fixed set of real inputs, check later.

    python bench/snapshot.py save DIR    # run the inputs' programs once, compress them, keep inputs and outputs
    python bench/snapshot.py check DIR   # compress the saved inputs again; list every output that changed
    python bench/snapshot.py update DIR  # after a change on purpose: the saved inputs' outputs saved again

Inputs (saved in DIR/inputs.json, so that a check does not depend on what ``ps`` or ``ls /usr/bin`` print
today): the structure corpus (tests/fixtures/programs), the query set's outputs and questions
(bench/query_eval.py at its fixed commit and seed) and the session replay's 30 real outputs with their
purposes (bench/session_replay.py). Each is compressed with the product's defaults, with its query where it
has one, at the query set's budgets, and with the structural stage alone (no word model: a router or
structure change shows without the model's scores in the way). A check prints the cases whose text or
``Stats.structure`` differ, with the first differing line, and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "bench" / "corpus")]

from whorf import Compressor  # noqa: E402
from whorf.config import CompressOptions  # noqa: E402

BUDGETS = (None, 250, 500, 1000)  # None: the default budget


def inputs() -> list[dict]:
    """Every input once: name, text and the query it is asked with (or None)."""
    import query_eval
    import session_replay

    out = [{"name": f"corpus/{p.stem}", "text": p.read_text(), "query": None}
           for p in sorted((ROOT / "tests" / "fixtures" / "programs").glob("*.txt"))]
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(repo), query_eval.REV], cwd=ROOT, check=True)
        try:
            rows = query_eval.rows(random.Random(7), repo)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(repo)], cwd=ROOT, check=True)
        out += [{"name": f"query/{k}-{r['shape']}", "text": r["output"], "query": r["query"]} for k, r in enumerate(rows)]
        turns = session_replay.real_outputs(Path(tmp), 30)
    out += [{"name": f"session/{k}", "text": t["output"], "query": f"Running `{t['command']}` {t['purpose']}"}
            for k, t in enumerate(turns)]
    return out


def outputs(comp: Compressor, cases: list[dict]) -> dict[str, dict]:
    """What whorf prints for each case and setting: {key: {"text", "structure"}}."""
    out: dict[str, dict] = {}
    for case in cases:
        settings = [("structure", CompressOptions(store=False, rate=1.0), None)]
        settings += [(f"budget={b}", CompressOptions(store=False, **({"budget_tokens": b} if b else {})), None)
                     for b in BUDGETS]
        if case["query"]:
            settings += [(f"query,budget={b}", CompressOptions(store=False, **({"budget_tokens": b} if b else {})),
                          case["query"]) for b in BUDGETS]
        for label, opts, query in settings:
            result = comp.compress(case["text"], opts, query=query)
            out[f"{case['name']} [{label}]"] = {"text": result.text, "structure": result.stats.structure}
    return out


def first_difference(a: str, b: str) -> str:
    for k, (x, y) in enumerate(zip(a.splitlines(), b.splitlines())):
        if x != y:
            return f"line {k + 1}: {x[:100]!r} -> {y[:100]!r}"
    return f"{len(a.splitlines())} lines -> {len(b.splitlines())} lines"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["save", "check", "update"])
    parser.add_argument("dir", type=Path)
    args = parser.parse_args()
    comp = Compressor()
    if args.action == "save":
        args.dir.mkdir(parents=True, exist_ok=True)
        cases = inputs()
        (args.dir / "inputs.json").write_text(json.dumps(cases))
        (args.dir / "outputs.json").write_text(json.dumps(outputs(comp, cases)))
        print(f"saved {len(cases)} inputs to {args.dir}")
        return 0
    cases = json.loads((args.dir / "inputs.json").read_text())
    if args.action == "update":
        (args.dir / "outputs.json").write_text(json.dumps(outputs(comp, cases)))
        print(f"outputs of {len(cases)} saved inputs saved again")
        return 0
    before = json.loads((args.dir / "outputs.json").read_text())
    after = outputs(comp, cases)
    changed = [k for k in before if before[k] != after.get(k)]
    for k in changed:
        b, a = before[k], after.get(k, {"text": "", "structure": "(missing)"})
        what = first_difference(b["text"], a["text"]) if b["text"] != a["text"] else "same text"
        print(f"{k}: structure {b['structure']!r} -> {a['structure']!r}; {what}")
    print(f"{len(after)} outputs, {len(changed)} changed")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())

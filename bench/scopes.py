"""The share of prose words the must-keep override forces before the model decides, and how much of it the
clause scopes add (negations, prohibitions, conditions, imperatives), on the held-out rows of a data file.

    python bench/scopes.py --data ../shared/data/ultrawhale/kompress_train_split.jsonl [--json docs/eval/scopes.json]

``patterns`` counts words a pattern matches inside; ``scopes`` the words a scope adds to them; ``forced``
both. Per scope pattern, the words its matches add (a word several scopes cover counts for the first).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import reports  # bench/reports.py (bench/ is the script's directory)

from whorf.data import HELD_OUT, read
from whorf.patterns import load_profile
from whorf.segment import segment


def forced_shares(path: str, profile_name: str = "default") -> dict:
    rows, _ = read(path)
    rows = [r for r in rows if r.split() == HELD_OUT]
    profile = load_profile(profile_name)
    bare = replace(profile, scope=(), scope_patterns=())
    single = {name: replace(profile, scope=((name, n),)) for name, n in profile.scope}
    words = by_patterns = forced = 0
    added = {name: 0 for name in single}
    for row in rows:
        seg = segment(row.text)
        base = bare.must_keep(seg.words, seg.text)
        full = profile.must_keep(seg.words, seg.text)
        words += len(seg.words)
        by_patterns += sum(base)
        forced += sum(full)
        for name, p in single.items():
            added[name] += sum(f and not b for f, b in zip(p.must_keep(seg.words, seg.text), base))
    share = (lambda n: round(n / words, 4) if words else 0.0)
    return {"data": Path(path).name, "rows": len(rows), "words": words, "profile": profile_name,
            "forced": share(forced), "patterns": share(by_patterns), "scopes": share(forced - by_patterns),
            "added_by_scope": {k: share(v) for k, v in added.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--json")
    args = ap.parse_args()
    out = forced_shares(args.data, args.profile)
    print(json.dumps(out, indent=1))
    if args.json:
        reports.write(args.json, out)


if __name__ == "__main__":
    main()

"""Which inputs a router change moves between the word model's domains (whether a retrain is due).

    python bench/router_moves.py save FILE [--data PATH ...]    # every training row's and snapshot input's label
    python bench/router_moves.py check FILE [--data PATH ...]   # the rows whose label moved since, by domain pair

The labels are ``whorf.domain.route``'s, the ones the shipped models were trained with (their prefix and
threshold bias): a change that moves training rows needs ``ROUTER_VERSION`` bumped and a retrain; one that
moves none leaves the models' inputs as they were. ``--data`` defaults to the training command's files.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import sys
from pathlib import Path

from whorf import data, domain

ROOT = Path(__file__).resolve().parents[1]
ULTRAWHALE = ROOT.parent / "shared" / "data" / "ultrawhale"
TRAINING = ("kompress_train_split.jsonl", "kompress_agent_train.jsonl", "domain_train_2k.jsonl",
            "c3_qwen_labeled.jsonl", "dogfeed_raw.jsonl")


def labels(paths: list[Path]) -> dict[str, str]:
    rows, _ = data.read_all([p for p in paths if p.is_file()])
    texts = [r.text for r in rows]
    texts += [p.read_text() for p in sorted((ROOT / "tests" / "fixtures" / "programs").glob("*.txt"))]
    return {hashlib.sha256(t.encode()).hexdigest()[:16]: domain.route(t) for t in texts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["save", "check"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--data", type=Path, action="append")
    args = parser.parse_args()
    now = labels(args.data or [ULTRAWHALE / f for f in TRAINING])
    if args.action == "save":
        args.file.write_text(json.dumps(now))
        print(f"{len(now)} labels saved")
        return 0
    before = json.loads(args.file.read_text())
    moved = collections.Counter((before[k], v) for k, v in now.items() if k in before and before[k] != v)
    for (a, b), n in moved.most_common():
        print(f"{a} -> {b}: {n}")
    print(f"{len(now)} inputs, {sum(moved.values())} moved")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())

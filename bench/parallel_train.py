"""Data-parallel training on this machine: the real backbone (MiniLM) on the shared data, one process
against two with the same global batch and seed: validation loss per epoch, held-out task metrics and wall
time.

    python bench/parallel_train.py --rows-per-file 120 --epochs 2 --json docs/eval/parallel.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ultrawhale"
FILES = ["kompress_train_split.jsonl", "kompress_agent_train.jsonl", "domain_train_2k.jsonl", "c3_qwen_labeled.jsonl"]


def train(out: Path, processes: int, args) -> dict:
    cmd = [sys.executable, "-m", "whorf", "train", "--out", str(out), "--epochs", str(args.epochs),
           "--max-rows-per-file", str(args.rows_per_file), "--batch-size", str(args.batch_size),
           "--processes", str(processes), "--threads", str(args.threads_total // processes)]
    for name in FILES:
        cmd += ["--data", str(DATA / name)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(args.threads_total // processes)},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    meta = json.loads((out / "whorf.json").read_text())
    evaluation = meta["evaluation"]
    held = evaluation["held_out"]
    return {"processes": processes, "wall_s": round(wall, 1), "train_s": meta["training"]["train_seconds"],
            "val_loss": [h["val_loss"] for h in evaluation["history"]],
            "held_out": {k: held.get(k) for k in ("val_loss", "f1", "keep_rate", "exact_keep_pct_model")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-per-file", type=int, default=120)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads-total", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/whorf-parallel"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    subprocess.run(["rm", "-rf", str(args.work)], check=True)
    runs = [train(args.work / f"p{n}", n, args) for n in (1, 2)]
    one, two = runs
    report = {"rows_per_file": args.rows_per_file, "epochs": args.epochs, "global_batch": args.batch_size,
              "cpus": os.cpu_count(), "runs": runs,
              "val_loss_rel_diff": [round(abs(a - b) / a, 4) for a, b in zip(one["val_loss"], two["val_loss"])],
              "train_speedup": round(one["train_s"] / two["train_s"], 3)}
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

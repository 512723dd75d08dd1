"""Scaling of ``whorf batch`` on this machine: rows/s and tokens/s at 1 and 2 workers, byte identity with
the single-process path, a worker killed mid-run, a killed job resumed, and the capacity plan from the
measured per-core figures.

    python bench/batch_scale.py --rows 100000 --json docs/eval/batch.json

Each configuration runs the real command line (``whorf batch ...``) in a fresh process on the corpus of
``bench/batch_corpus.py``; throughput is over the job's whole wall time (Ray's start-up included).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import batch_corpus  # noqa: E402

WHORF = [sys.executable, "-m", "whorf"]
PAIR_TOKENS = 500  # the size of a pair in the capacity plan (the figure)


def job(operation: str, corpus: Path, out: Path, *flags: str) -> dict:
    """Run one batch job to the end; its summary plus the wall time."""
    started = time.perf_counter()
    subprocess.run([*WHORF, "batch", operation, str(corpus), str(out), *flags], check=True,
                   stdout=subprocess.DEVNULL, env=_env())
    summary = json.loads((out / "summary.json").read_text())
    summary["wall_s"] = round(time.perf_counter() - started, 2)
    summary["rows_out"] = rows_out(out)
    return summary


def _env() -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def rows_out(out: Path) -> int:
    """The rows the job wrote, counted here (not taken from its own summary)."""
    return sum(part.read_bytes().count(b"\n") for part in out.glob("part-*.jsonl"))


def digest(out: Path) -> str:
    h = hashlib.sha256()
    for part in sorted(out.glob("part-*.jsonl")):
        h.update(part.read_bytes())
    return h.hexdigest()


def figures(summary: dict, workers: int) -> dict:
    wall = summary["wall_s"]
    return {"workers": workers, "rows": summary["rows_in"], "rows_out": summary["rows_out"], "wall_s": wall,
            "rows_per_s": round(summary["rows_in"] / wall, 1), "tokens_per_s": round(summary["tokens_in"] / wall),
            "rows_per_s_per_worker": round(summary["rows_in"] / wall / workers, 1),
            "tokens_per_s_per_worker": round(summary["tokens_in"] / wall / workers)}


def killed_worker(corpus: Path, out: Path, shard_rows: int) -> dict:
    """Two workers; once a few shards are written, one worker process is killed (SIGKILL)."""
    proc = subprocess.Popen([*WHORF, "batch", "compress", str(corpus), str(out), "--workers", "2",
                             "--shard-rows", str(shard_rows)], stdout=subprocess.DEVNULL, env=_env())
    victim = None
    while proc.poll() is None and victim is None:
        if len(list(out.glob("part-*.jsonl"))) >= 3:
            workers = [p for p in psutil.process_iter(["cmdline"]) if "ShardWorker" in " ".join(p.info["cmdline"] or [])]
            if workers:
                victim = workers[0].pid
                os.kill(victim, signal.SIGKILL)
        time.sleep(0.2)
    proc.wait()
    summary = json.loads((out / "summary.json").read_text())
    return {"killed_pid": victim, "exit_code": proc.returncode, "rows_out": rows_out(out),
            "processes": len(summary["this_run"]["processes"])}


def resumed(corpus: Path, out: Path, shard_rows: int) -> dict:
    """A single-process job killed once a third of its shards are written, then run again."""
    proc = subprocess.Popen([*WHORF, "batch", "compress", str(corpus), str(out), "--local", "--shard-rows",
                             str(shard_rows)], stdout=subprocess.DEVNULL, env=_env())
    total = -(-sum(1 for _ in corpus.open("rb")) // shard_rows)
    while proc.poll() is None and len(list(out.glob("part-*.jsonl"))) < total // 3:
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    before = len(list(out.glob("part-*.jsonl")))
    summary = job("compress", corpus, out, "--local", "--shard-rows", str(shard_rows))
    return {"shards": total, "finished_before_kill": before, "run_again": summary["this_run"]["shards"],
            "rows_out": summary["rows_out"]}


def capacity(per_core_tokens_s: float, label: str) -> dict:
    """Cores for 1M and 100M pairs of PAIR_TOKENS tokens a day at the measured per-core rate."""
    day = 86_400
    return {"operation": label, "tokens_per_s_per_core": round(per_core_tokens_s),
            **{f"cores_for_{n}_pairs_a_day": round(pairs * PAIR_TOKENS / (per_core_tokens_s * day), 1)
               for n, pairs in (("1M", 1_000_000), ("100M", 100_000_000))}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--selflabel-rows", type=int, default=6_000)
    parser.add_argument("--shard-rows", type=int, default=2_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/whorf-batch"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work = args.work
    subprocess.run(["rm", "-rf", str(work)], check=True)
    corpus = batch_corpus.write(args.rows, work / "corpus.jsonl")
    small = batch_corpus.write(args.selflabel_rows, work / "selflabel.jsonl")
    shard = ["--shard-rows", str(args.shard_rows)]
    runs = {
        "local": job("compress", corpus, work / "local", "--local", *shard),
        "ray_1": job("compress", corpus, work / "ray1", "--workers", "1", *shard),
        "ray_2": job("compress", corpus, work / "ray2", "--workers", "2", *shard),
    }
    digests = {name: digest(work / ("local" if name == "local" else name.replace("_", ""))) for name in runs}
    model = {  # the model-bound job: every word through the word model
        "local": job("selflabel", small, work / "sl-local", "--local", "--shard-rows", "500"),
        "ray_1": job("selflabel", small, work / "sl-ray1", "--workers", "1", "--shard-rows", "500"),
        "ray_2": job("selflabel", small, work / "sl-ray2", "--workers", "2", "--shard-rows", "500"),
    }
    model_digests = {name: digest(work / f"sl-{name.replace('_', '')}") for name in model}
    compress = {name: figures(s, 2 if name == "ray_2" else 1) for name, s in runs.items()}
    selflabel = {name: figures(s, 2 if name == "ray_2" else 1) for name, s in model.items()}
    report = {
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version()},
        "rows": args.rows, "shard_rows": args.shard_rows,
        "compress": compress, "compress_identical": len(set(digests.values())) == 1,
        "compress_speedup_2_vs_1": round(compress["ray_2"]["rows_per_s"] / compress["ray_1"]["rows_per_s"], 3),
        "selflabel": selflabel, "selflabel_identical": len(set(model_digests.values())) == 1,
        "selflabel_speedup_2_vs_1": round(selflabel["ray_2"]["rows_per_s"] / selflabel["ray_1"]["rows_per_s"], 3),
        "killed_worker": killed_worker(corpus, work / "killed", args.shard_rows),
        "resumed": resumed(corpus, work / "resumed", args.shard_rows),
    }
    report["killed_worker"]["identical"] = digest(work / "killed") == digests["local"]
    report["resumed"]["identical"] = digest(work / "resumed") == digests["local"]
    report["capacity"] = [capacity(compress["local"]["tokens_per_s"], "compress (mixed corpus)"),
                          capacity(selflabel["local"]["tokens_per_s"], "selflabel (every word through the model)")]
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""Running a batch job: plan the shards, skip the finished ones, run the rest, write the summary.

    inputs -> shards (plan.json, made once) -> the unfinished shards -> workers: read the shard from its
    source, process its rows, write part-NNNNN.jsonl (atomically: it exists complete or not at all)
    -> summary.json (every shard's counts, this run's throughput)

The workers are a Ray Data actor pool (``ray.data.Dataset.map_batches`` over the shard list, one
``ShardWorker`` actor per worker, each with ``threads`` CPUs and one loaded model), on a local cluster
started for the job or the one ``address`` names; the largest shards go first, so that the workers finish
together. Ray Data restarts an actor that dies and retries its
shard; a shard still missing after the pool has finished is run again (``RETRIES`` rounds), so a killed
worker loses no row. ``local`` runs the same ``process_shard`` in this process, in plan order, without Ray:
the same bytes, since each output depends only on its shard and the settings (timing is kept out of rows).
A killed job re-run with the same settings and output directory resumes from the finished shards.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from whorf.batch import shards as sharding
from whorf.batch.config import BatchConfig
from whorf.batch.shards import Shard

PLAN = "plan.json"
SUMMARY = "summary.json"
COUNTS = ".counts"  # one JSON file of counts per finished shard
RETRIES = 2  # rounds of re-running shards still missing after the pool finished


class BatchError(RuntimeError):
    """The job cannot run as asked; the message says why and what to do."""


def part_name(shard: Shard) -> str:
    return f"part-{shard.index:05d}.jsonl"


@dataclass
class ShardDone:
    index: int
    rows: int
    seconds: float
    worker: str  # host:pid of the process that ran it


def process_shard(operation, shard: Shard, out: Path) -> ShardDone:
    """Read, process and write one shard; its output file appears only when complete."""
    started = time.perf_counter()
    rows = sharding.read(shard)
    lines, counts = operation.process(rows, shard)
    if len(lines) != len(rows):  # the contract every operation keeps; never write a shard that breaks it
        raise BatchError(f"shard {shard.index}: {len(lines)} rows out for {len(rows)} in")
    final = out / part_name(shard)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        f.writelines(lines)
    (out / COUNTS).mkdir(exist_ok=True)
    (out / COUNTS / f"{shard.index:05d}.json").write_text(json.dumps(asdict(counts)))
    tmp.replace(final)
    return ShardDone(shard.index, len(rows), time.perf_counter() - started, f"{os.uname().nodename}:{os.getpid()}")


class ShardWorker:
    """A Ray Data actor: one loaded operation (model), shards in, one result row per shard out."""

    def __init__(self, cfg: dict, out: str):
        from whorf.batch.work import OPERATIONS

        config = BatchConfig(**cfg)
        self.operation = OPERATIONS[config.operation](config)
        self.out = Path(out)

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        done = [process_shard(self.operation, Shard.from_dict(json.loads(s)), self.out) for s in batch["shard"]]
        return {"done": np.array([json.dumps(asdict(d)) for d in done], dtype=object)}


def load_plan(cfg: BatchConfig, out: Path) -> list[Shard]:
    """The output directory's plan, or a new one. Refused: a plan made with other settings (unless no shard
    of it finished), inputs that changed since their plan, part files without a plan."""
    path = out / PLAN
    key = cfg.work_key()
    if out.exists() and not out.is_dir():
        raise BatchError(f"{out} is a file: OUTPUT must be a directory")
    if path.is_file():
        recorded = _recorded(path)
        finished = any(out.glob("part-*.jsonl"))
        if recorded.get("work_key") == key:
            _check_unchanged(recorded)
            return [Shard.from_dict(s) for s in recorded["shards"]]
        if finished:
            raise BatchError(f"{out} holds a {recorded.get('operation')} run with other settings or inputs "
                             f"(plan.json); re-run with the same ones to resume, or use a new output directory")
    elif any(out.glob("part-*.jsonl")):
        raise BatchError(f"{out} holds part files but no plan.json: use a new output directory")
    try:
        planned = sharding.plan(cfg.inputs, cfg.shard_rows)
    except sharding.SourceError as exc:
        raise BatchError(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    body = {"operation": cfg.operation, "work_key": key, "inputs": cfg.inputs, "settings": asdict(cfg),
            "files": sharding.fingerprints(planned), "shards": [s.to_dict() for s in planned]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=1))
    tmp.replace(path)
    return planned


def _recorded(path: Path) -> dict:
    try:
        recorded = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BatchError(f"{path} is damaged ({exc}); use a new output directory") from None
    if not isinstance(recorded, dict) or not isinstance(recorded.get("shards"), list):
        raise BatchError(f"{path} is not a batch plan; use a new output directory")
    return recorded


def _check_unchanged(recorded: dict) -> None:
    for source, (size, mtime) in recorded.get("files", {}).items():
        try:
            st = os.stat(source)
        except OSError:
            raise BatchError(f"{source} is gone since the plan; use a new output directory") from None
        if (st.st_size, st.st_mtime_ns) != (size, mtime):
            raise BatchError(f"{source} changed since the plan (size or modification time); use a new output directory")


def pending(plan: list[Shard], out: Path) -> list[Shard]:
    """The shards without a complete part file: missing, without its counts, or not ``rows`` lines long
    (a part damaged after it was written is done again)."""
    return [s for s in plan if not (out / part_name(s)).is_file() or not (out / COUNTS / f"{s.index:05d}.json").is_file()
            or _lines(out / part_name(s)) != s.rows]


def run(cfg: BatchConfig, on_shard: Callable[[ShardDone], None] = lambda d: None,
        on_start: Callable[[int, int], None] = lambda total, done: None) -> dict:
    """Run the job; ``on_start(total_rows, rows_already_done)`` then ``on_shard`` per shard finished now.
    Returns the summary (also written to ``summary.json``)."""
    out = Path(cfg.output)
    plan = load_plan(cfg, out)
    todo = pending(plan, out)
    on_start(sum(s.rows for s in plan), sum(s.rows for s in plan) - sum(s.rows for s in todo))
    started = time.perf_counter()
    done: list[ShardDone] = []
    record = lambda d: (done.append(d), on_shard(d))  # noqa: E731
    failure = None
    if todo and cfg.local:
        _run_local(cfg, todo, out, record)
    elif todo:
        failure = _run_ray(cfg, out, todo, record)
    missing = pending(plan, out)
    if missing:
        raise BatchError(f"{len(missing)} shards are unfinished (first: {part_name(missing[0])})"
                         + (f" after {failure}" if failure else "") + "; run again to resume")
    return _summary(cfg, plan, out, done, time.perf_counter() - started)


def _run_local(cfg: BatchConfig, todo: list[Shard], out: Path, record: Callable[[ShardDone], None]) -> None:
    from whorf.batch.work import OPERATIONS

    operation = OPERATIONS[cfg.operation](cfg)
    for shard in todo:
        record(process_shard(operation, shard, out))


def _run_ray(cfg: BatchConfig, out: Path, todo: list[Shard], record: Callable[[ShardDone], None]) -> str | None:
    """The actor pool over the shards; shards still missing afterwards (their actor died past what Ray
    retried) go round again. Returns the last failure of the pool, if it had one."""
    ray = _ray(cfg)
    failure = None
    todo = sorted(todo, key=_cost, reverse=True)  # the largest first: the last shards to finish are small ones
    try:
        for _ in range(1 + RETRIES):
            if not todo:
                break
            failure, lost = _pool_round(ray, cfg, out, todo, record)
            if failure and not lost:  # the operation itself failed: it would fail again
                break
            todo = pending(todo, out)
    finally:
        ray.shutdown()
    return failure


def _cost(shard: Shard) -> int:
    """A shard's expected work: its bytes for a JSON lines shard, else its rows."""
    return shard.end - shard.start if shard.kind == "jsonl" else shard.rows


def _pool_round(ray, cfg: BatchConfig, out: Path, todo: list[Shard],
                record: Callable[[ShardDone], None]) -> tuple[str | None, bool]:
    """One pass of the actor pool; (the failure, if any, and whether it was a lost worker)."""
    ds = ray.data.from_items([{"shard": json.dumps(s.to_dict())} for s in todo], override_num_blocks=len(todo))
    pool = ds.map_batches(ShardWorker, fn_constructor_args=(asdict(cfg), str(out.resolve())), batch_size=1,
                          num_cpus=cfg.threads, batch_format="numpy",
                          compute=ray.data.ActorPoolStrategy(size=min(cfg.workers, len(todo)),
                                                                  max_tasks_in_flight_per_actor=1))
    try:
        for row in pool.iter_rows():
            record(ShardDone(**json.loads(row["done"])))
    except Exception as exc:  # noqa: BLE001 - the boundary: a lost worker goes round again, the rest is reported
        if isinstance(exc, (KeyboardInterrupt, BatchError)):
            raise
        import logging

        cause, lost = worker_error(exc)
        logging.getLogger("whorf").warning("batch: the worker pool failed (%s)%s", cause,
                                           "; retrying the unfinished shards" if lost else "")
        return cause, lost
    return None, False


def worker_error(exc: Exception) -> tuple[str, bool]:
    """What went wrong in a worker, as the worker said it (Ray wraps it in its own text), and whether the
    worker was lost (a crash to retry) rather than the operation failing on its rows."""
    text = str(exc)
    said = [m.group(0) for m in re.finditer(r"(?m)^(?:[\w.]+\.)?(\w*(?:Error|Exception)): (?!To change retry).*$", text)]
    user = [line for line in said if not line.startswith(("ray.", "RayTaskError", "UserCodeException"))]
    lost = "ActorDiedError" in type(exc).__name__ or "died" in text.lower() and not user
    return ((user or said or [f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"])[-1][:300], lost)


def _ray(cfg: BatchConfig):
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise BatchError("whorf batch runs on Ray: pip install 'whorf[scale]' (or pass --local to run in one process)") from None
    import logging

    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if cfg.address:
        _reachable(cfg.address)
    # without --address a new local cluster, even where one runs already (ray.init alone would join it)
    kwargs = {"address": cfg.address} if cfg.address else {"address": "local", "num_cpus": max(cfg.workers * cfg.threads, 1)}
    ray.init(**kwargs, include_dashboard=False, log_to_driver=False, configure_logging=False,
             ignore_reinit_error=True)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    return ray


def _reachable(address: str, timeout: float = 5.0) -> None:
    """A cluster address that names a host and port must answer within ``timeout`` seconds (Ray itself
    retries for minutes); ``auto`` and names without a port are left to Ray."""
    import socket

    host_port = address.split("://", 1)[-1]
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise BatchError(f"no Ray cluster answers at {address} ({exc}); start one with `ray start --head` "
                         "or leave out --address to start a local one") from None


def _summary(cfg: BatchConfig, plan: list[Shard], out: Path, done: list[ShardDone], seconds: float) -> dict:
    from whorf.batch.work import Counts

    total = Counts()
    for shard in plan:
        total.add(Counts(**json.loads((out / COUNTS / f"{shard.index:05d}.json").read_text())))
    rows_now = sum(d.rows for d in done)
    workers = sorted({d.worker for d in done})
    summary = {
        "operation": cfg.operation, "inputs": cfg.inputs, "output": str(out), "shards": len(plan),
        # pending() has just found every part file holding its shard's number of lines
        "rows_in": sum(s.rows for s in plan), "rows_out": sum(s.rows for s in plan if (out / part_name(s)).is_file()),
        "passed": total.passed, "reasons": total.reasons, "tokens_in": total.tokens_in, "tokens_out": total.tokens_out,
        "mode": "local" if cfg.local else "ray", "workers": cfg.workers, "threads": cfg.threads,
        "this_run": {"shards": len(done), "rows": rows_now, "seconds": round(seconds, 3),
                     "rows_per_s": round(rows_now / seconds, 2) if done and seconds > 0 else None,
                     "processes": workers},
    }
    (out / SUMMARY).write_text(json.dumps(summary, indent=1))
    return summary


def _lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))

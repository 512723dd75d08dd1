"""The dogfood loop as one run: the proxy's pair log -> batch labels -> train -> gate -> register.

    pairs (SQLite or PostgreSQL) --whorf batch label--> DIR/labels/part-*.jsonl (the pair ids as planned)
    -> train DIR/model on them (plus any --data files) -> gate: the candidate's task metrics on held-out
    rows against the model it would replace -> register it only when it is no worse

Every stage resumes: the labels by shard, the training from its checkpoint, and a stage whose inputs and
settings are unchanged (its stamp, as in ``whorf pipeline``) is skipped. The model's whorf.json records
which pairs it learned from (the database, the first and last pair id, how many rows were labelled) beside
the commit and data hashes every training records.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from whorf.train.loop import TrainConfig
from whorf.urls import redact_url

GATE_METRICS = {"exact_keep_pct_model": +1, "sem_sim": +1, "keep_rate": -1}  # +1: higher is better


@dataclass
class DogfoodConfig:
    pairs: str  # the pair log's SQLAlchemy URL
    out: str  # DIR: labels/, model/, gate.json, dogfood.json
    baseline: str = "whorf-mini"  # the model in use: the candidate must be no worse on held-out rows
    data: list[str] = field(default_factory=list)  # more training files mixed in with the pairs' labels
    eval_data: list[str] = field(default_factory=list)  # default: the held-out split of the pairs' labels
    eval_rows: int = 300
    tolerance: float = 0.005  # how much worse a metric may be and still pass
    register_name: str | None = None  # None: DIR's name
    registry_root: str | None = None
    workers: int = 1
    local: bool = False  # label in this process instead of on Ray
    train: TrainConfig = field(default_factory=lambda: TrainConfig(data=[], out=""))


def run(cfg: DogfoodConfig, log: Callable[[str], None] = print, console=None) -> dict:
    from whorf import registry
    from whorf.train.pipeline import Stages

    if cfg.register_name is not None:
        registry.check_name(cfg.register_name)
    out = Path(cfg.out)
    stages = Stages(out / ".dogfood", log)
    labels, model_dir = out / "labels", out / "model"
    stages.run(1, 4, "label", {"pairs": redact_url(cfg.pairs), "rule": cfg.train.rule, "profile": cfg.train.profile},
               [labels / "summary.json"], lambda: _label(cfg, labels, log))
    train_cfg = replace(cfg.train, data=[*sorted(map(str, labels.glob("part-*.jsonl"))), *cfg.data], out=str(model_dir),
                        name=cfg.register_name or out.name)
    stages.run(2, 4, "train", {k: v for k, v in asdict(train_cfg).items() if k != "out"},
               [model_dir / "whorf.json"], lambda: _train(train_cfg, labels, cfg, console))
    eval_data = cfg.eval_data or train_cfg.data
    stages.run(3, 4, "gate", {"baseline": cfg.baseline, "eval": eval_data, "tolerance": cfg.tolerance},
               [out / "gate.json"], lambda: _gate(cfg, model_dir, eval_data, out / "gate.json", log))
    gate = json.loads((out / "gate.json").read_text())
    result = {"model": str(model_dir), "gate": gate, "registered": None}
    if gate["passed"]:
        target = (Path(cfg.registry_root) if cfg.registry_root else registry.registry_dir()) / (cfg.register_name or out.name)
        stages.run(4, 4, "register", {"target": str(target)}, [target / "whorf.json"],
                   lambda: log(f"registered {registry.register(model_dir, cfg.register_name or out.name, cfg.registry_root and Path(cfg.registry_root))}"))
        result["registered"] = str(target)
    else:
        log(f"=== 4/4 register === skipped: the candidate is worse than {cfg.baseline} ({', '.join(gate['failed'])})")
    (out / "dogfood.json").write_text(json.dumps(result, indent=1))
    return result


def _label(cfg: DogfoodConfig, labels: Path, log: Callable[[str], None]) -> None:
    from whorf.batch.config import BatchConfig
    from whorf.batch.run import run as run_batch

    summary = run_batch(BatchConfig("label", [cfg.pairs], str(labels), workers=cfg.workers, local=cfg.local,
                                    rule=cfg.train.rule, profile=cfg.train.profile))
    log(f"labels: {summary['rows_out']} pairs, {summary['rows_out'] - summary['passed']} labelled "
        f"({summary['passed']} not: {summary['reasons']})")


def pairs_provenance(labels: Path, url: str) -> dict:
    """Which pairs the labels came from: the database (without credentials), the id range, the counts."""
    plan = json.loads((labels / "plan.json").read_text())
    summary = json.loads((labels / "summary.json").read_text())
    shards = plan["shards"]
    return {"source": redact_url(url), "first_pair_id": shards[0]["start"] if shards else None,
            "last_pair_id": shards[-1]["end"] - 1 if shards else None, "pairs": summary["rows_in"],
            "labelled": summary["rows_out"] - summary["passed"]}


def _train(train_cfg: TrainConfig, labels: Path, cfg: DogfoodConfig, console) -> None:
    from whorf.config import ModelConfig
    from whorf.train.trainer import train

    out = train(train_cfg, console)
    if not (out / "whorf.json").is_file():
        raise RuntimeError(f"training stopped before the end; run again to resume from {out / 'checkpoint'}")
    config = ModelConfig.load(out)
    config.training["pairs"] = pairs_provenance(labels, cfg.pairs)
    config.save(out)


def _gate(cfg: DogfoodConfig, model_dir: Path, eval_data: list[str], path: Path, log: Callable[[str], None]) -> None:
    """The candidate and the baseline on the same held-out rows; passed when no task metric is worse by
    more than the tolerance."""
    from whorf.loop.selflabel import measure

    candidate = measure(str(model_dir), eval_data, cfg.eval_rows)
    baseline = measure(cfg.baseline, eval_data, cfg.eval_rows)
    failed = [m for m, sign in GATE_METRICS.items() if sign * (candidate[m] - baseline[m]) < -cfg.tolerance]
    body = {"baseline": cfg.baseline, "tolerance": cfg.tolerance, "eval_data": eval_data, "passed": not failed,
            "failed": failed, "candidate": {m: candidate[m] for m in GATE_METRICS},
            "baseline_metrics": {m: baseline[m] for m in GATE_METRICS}}
    path.write_text(json.dumps(body, indent=1))
    log("gate: " + ", ".join(f"{m} {candidate[m]:.4f} vs {baseline[m]:.4f}" for m in GATE_METRICS)
        + (" -> passed" if not failed else f" -> failed on {', '.join(failed)}"))

"""``whorf pipeline``: label -> train -> evaluate -> export ONNX -> register (the seed's run_training.sh).

Each stage prints ``=== i/N stage ===`` and writes a stamp (a hash of its inputs and settings); a stage
whose stamp matches and whose outputs exist is skipped, so a re-run only redoes what changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from whorf import registry
from whorf.data import split_heretic
from whorf.train.trainer import TrainConfig


@dataclass
class PipelineConfig:
    train: TrainConfig
    eval_data: list[str] = field(default_factory=list)
    register_name: str | None = None
    registry_root: str | None = None
    push_to_hub: str | None = None
    int8: bool = True


def _file_hash(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Stages:
    def __init__(self, work: Path, log: Callable[[str], None]):
        self.work = work
        self.stamps = work / ".stamps"
        self.stamps.mkdir(parents=True, exist_ok=True)
        self.log = log
        self.previous = ""

    def run(self, index: int, total: int, name: str, key: dict, outputs: list[Path], fn: Callable[[], None]) -> None:
        self.log(f"=== {index}/{total} {name} ===")
        digest = hashlib.sha256(json.dumps([self.previous, key], sort_keys=True, default=str).encode()).hexdigest()
        stamp = self.stamps / f"{name}.json"
        current = stamp.is_file() and json.loads(stamp.read_text()).get("digest") == digest
        if current and all(p.exists() for p in outputs):
            self.log(f"{name}: outputs are current, skipped")
        else:
            stamp.unlink(missing_ok=True)
            fn()
            stamp.write_text(json.dumps({"digest": digest}))
        self.previous = digest


def run(cfg: PipelineConfig, log: Callable[[str], None] = print, console=None) -> dict:
    from whorf.train.labelfile import label_files
    from whorf.train.trainer import train

    if cfg.register_name is not None:
        registry.check_name(cfg.register_name)  # a bad name fails now, not after training
    work = Path(cfg.train.out).parent / (Path(cfg.train.out).name + "-pipeline")
    model_dir = Path(cfg.train.out)
    stages = Stages(work, log)
    total = 5 + (1 if cfg.push_to_hub else 0)
    data_key = {p: _file_hash(p) for p in cfg.train.data}
    result: dict = {"model": str(model_dir), "work": str(work)}

    def do_label():
        stats = label_files(cfg.train.data, work / "labels.jsonl", cfg.train.rule, cfg.train.profile)
        for s in stats:
            log(s.line())
        (work / "label_stats.json").write_text(json.dumps([asdict(s) for s in stats], indent=2))

    stages.run(1, total, "label", {"data": data_key, "rule": cfg.train.rule}, [work / "label_stats.json"], do_label)
    train_key = {k: v for k, v in asdict(cfg.train).items() if k not in ("out", "data")}
    stages.run(2, total, "train", train_key, [model_dir / "whorf.json", model_dir / "adapter.safetensors"],
               lambda: train(cfg.train, console))

    eval_data = cfg.eval_data or cfg.train.data

    def do_eval():
        from whorf.eval import report as reports
        from whorf.eval.runner import EvalConfig, run as run_eval

        rest, heretic = split_heretic(eval_data)
        rep = run_eval(EvalConfig(data=rest, heretic=heretic, model=str(model_dir), split="held-out" if not cfg.eval_data else "all"))
        reports.write(rep, work / "report")

    stages.run(3, total, "evaluate", {"eval": {p: _file_hash(p) for p in eval_data}}, [work / "report" / "report.json"], do_eval)

    stages.run(4, total, "export", {"int8": cfg.int8}, [work / "onnx" / "parity.json"],
               lambda: _export(model_dir, work / "onnx", cfg.int8, log))
    result["registered"] = str(_publish(cfg, stages, total, model_dir, log))
    return result


def _export(model_dir: Path, out: Path, int8: bool, log: Callable[[str], None]) -> None:
    """The export stage: ONNX files of the trained model and their parity with torch."""
    from whorf import model as modeling
    from whorf.onnx_export import export, parity, report

    loaded = modeling.load(model_dir)
    checks = parity(loaded, export(loaded, out, int8=int8))
    for p in checks:
        log(p.line())
    (out / "parity.json").write_text(json.dumps(report(checks), indent=2))


def _publish(cfg: PipelineConfig, stages: Stages, total: int, model_dir: Path, log: Callable[[str], None]) -> Path:
    """The register stage (and the push stage when a hub repository is named); returns the registered path."""
    root = Path(cfg.registry_root) if cfg.registry_root else None
    target = (root or registry.registry_dir()) / (cfg.register_name or model_dir.name)

    def do_register():
        path = registry.register(model_dir, cfg.register_name, root)
        log(f"registered {path}")

    stages.run(5, total, "register", {"target": str(target)}, [target / "whorf.json"], do_register)
    if cfg.push_to_hub:
        def do_push():
            from huggingface_hub import HfApi

            HfApi().upload_folder(repo_id=cfg.push_to_hub, folder_path=str(model_dir), repo_type="model")
            log(f"pushed {model_dir} to {cfg.push_to_hub}")

        stages.run(6, total, "push", {"repo": cfg.push_to_hub}, [], do_push)
    return target

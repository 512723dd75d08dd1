"""The dogfood loop as one run: a real pair log (SQLite) -> batch labels -> training (tiny backbone) -> the
gate against the model in use -> register, with the pairs' provenance in whorf.json and every stage resumable."""

from __future__ import annotations

import json

from whorf.loop.dogfood import DogfoodConfig, run
from whorf.data.pairs import PairLog, now

from conftest import FIXTURES
from test_train import config


def pair_log(tmp_path, repeat: int = 4) -> str:
    url = f"sqlite:///{tmp_path / 'pairs.sqlite'}"
    rows = [json.loads(line) for line in (FIXTURES / "train_small.jsonl").read_text().splitlines()
            if line.startswith("{") and '"reference"' in line and '"text"' in line]
    log = PairLog(url)
    log.add([{"request_id": f"r{i}-{k}", "created_at": now(), "api": "anthropic", "tool_name": "Bash", "domain": "logs",
              "model_id": "whorf-micro", "original": f"{row['text']} (run {k})", "compressed": row["reference"],
              "tokens_in": 10, "tokens_out": 5, "ms": 1.0, "decisions": "[]", "query": None}
             for k in range(repeat) for i, row in enumerate(rows)])
    return url


def test_pairs_to_registered_model_with_provenance(tiny_bert, tmp_path):
    url = pair_log(tmp_path)
    train_cfg = config(tiny_bert, "", epochs=1, held_out_pct=10, validation_pct=10)
    lines: list[str] = []
    cfg = DogfoodConfig(pairs=url, out=str(tmp_path / "run"), baseline="whorf-micro", local=True, eval_rows=40,
                        tolerance=1.0, registry_root=str(tmp_path / "registry"), train=train_cfg)
    result = run(cfg, log=lines.append)
    gate = json.loads((tmp_path / "run" / "gate.json").read_text())
    assert set(gate["candidate"]) == {"exact_keep_pct_model", "sem_sim", "keep_rate"}
    assert gate["passed"] and result["registered"] == str(tmp_path / "registry" / "run")
    meta = json.loads((tmp_path / "registry" / "run" / "whorf.json").read_text())
    pairs = meta["training"]["pairs"]
    assert pairs["pairs"] == 4 * 27 and pairs["first_pair_id"] == 1 and pairs["last_pair_id"] == 108
    assert pairs["source"].startswith("sqlite:///") and meta["training"]["git_commit"]
    # a second run finds every stage current
    lines.clear()
    run(cfg, log=lines.append)
    assert sum("outputs are current, skipped" in line for line in lines) == 4

    untrained = config(tiny_bert, "", epochs=1, held_out_pct=10, validation_pct=10, lr=0.0, head_lr=0.0)
    strict = DogfoodConfig(**{**cfg.__dict__, "out": str(tmp_path / "strict"), "tolerance": 0.0, "baseline": "whorf-mini",
                              "train": untrained})
    result = run(strict, log=lines.append)
    gate = json.loads((tmp_path / "strict" / "gate.json").read_text())
    worse = [m for m in gate["failed"]]
    assert result["registered"] is None and worse  # a random head that learned nothing (lr 0) loses to whorf-mini
    assert not (tmp_path / "registry" / "strict").exists()

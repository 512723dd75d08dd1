"""Data-parallel training (Accelerate, gloo on CPU): two processes with the same global batch and seed end
where one process ends, the replicas stay identical, and a run interrupted under data parallelism resumes
to the weights of an uninterrupted one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from safetensors.torch import load_file

from test_train import config

HELPER = Path(__file__).with_name("dp_train.py")


def run(cfg, processes: int) -> subprocess.CompletedProcess:
    body = json.dumps({k: v for k, v in vars(cfg).items()})
    launcher = [sys.executable] if processes == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                                        f"--nproc-per-node={processes}"]
    result = subprocess.run([*launcher, str(HELPER), body], capture_output=True, text=True, timeout=600,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def history(out: Path) -> list[dict]:
    return json.loads((out / "whorf.json").read_text())["evaluation"]["history"]


def test_two_processes_match_one_with_the_same_global_batch(tiny_bert, tmp_path):
    one = config(tiny_bert, tmp_path / "one", epochs=2, batch_size=8, threads=1)
    two = config(tiny_bert, tmp_path / "two", epochs=2, batch_size=8, threads=1)
    run(one, 1)
    result = run(two, 2)
    assert "data parallel: 2 processes" in result.stderr
    a, b = history(tmp_path / "one"), history(tmp_path / "two")
    assert len(a) == len(b) == 2
    for x, y in zip(a, b):  # validation loss within 2% at every epoch
        assert abs(x["val_loss"] - y["val_loss"]) <= 0.02 * x["val_loss"], (x["val_loss"], y["val_loss"])
    assert a[0]["val_loss"] != b[0]["val_loss"]  # two processes really split the batches (shard means differ)
    steps = [json.loads(line) for line in (tmp_path / "two" / "train_log.jsonl").read_text().splitlines() if '"step"' in line]
    assert [s["step"] for s in steps] == sorted({s["step"] for s in steps})  # one log, written by one process


def test_interrupted_data_parallel_run_resumes_to_the_same_weights(tiny_bert, tmp_path):
    out = tmp_path / "resumed"
    run(config(tiny_bert, out, epochs=2, batch_size=8, threads=1, stop_after_steps=3), 2)
    assert not (out / "whorf.json").exists()
    assert json.loads((out / "checkpoint" / "state.json").read_text())["global_step"] == 3
    run(config(tiny_bert, out, epochs=2, batch_size=8, threads=1), 2)
    straight = tmp_path / "straight"
    run(config(tiny_bert, straight, epochs=2, batch_size=8, threads=1), 2)
    a, b = load_file(str(out / "adapter.safetensors")), load_file(str(straight / "adapter.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key].numpy(), b[key].numpy(), atol=1e-5, err_msg=key)

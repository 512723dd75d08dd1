import json

import numpy as np
import pytest
from typer.testing import CliRunner

from whorf import Compressor
from whorf.train.trainer import TrainConfig, train

from conftest import FIXTURES, TRACEBACK


def config(tiny_bert, out, **kw):
    base = dict(data=[str(FIXTURES / "train_small.jsonl")], out=str(out), name="tiny-trained", backbone=str(tiny_bert),
                epochs=3, lr=3e-3, head_lr=1e-2, rank=4, alpha=8, layers=2, max_length=64, batch_size=4,
                held_out_pct=20, eval_rows=20, checkpoint_every=5, log_every=2)
    base.update(kw)
    return TrainConfig(**base)


def steps(out):
    return [json.loads(l) for l in (out / "train_log.jsonl").read_text().splitlines() if '"step"' in l]


def test_training_lowers_the_loss_and_writes_a_complete_model(tiny_bert, tmp_path):
    out = train(config(tiny_bert, tmp_path / "m"))
    log = steps(out)
    assert np.mean([r["loss"] for r in log[:3]]) > np.mean([r["loss"] for r in log[-3:]])
    meta = json.loads((out / "whorf.json").read_text())
    assert meta["trained"] and meta["training"]["data"][0]["sha256"] and meta["training"]["data"][0]["skipped"] == 3
    assert meta["evaluation"]["held_out"]["val_loss"] > 0
    assert {"f1", "keep_rate", "exact_keep_pct", "exact_keep_pct_model"} <= meta["evaluation"]["held_out"].keys()
    # the saved model reloads to the same scores as the in-memory best epoch
    a = Compressor(str(out)).compress(TRACEBACK)
    b = Compressor(str(out)).compress(TRACEBACK)
    assert [w.score for w in a.words] == [w.score for w in b.words]


def test_interrupted_training_resumes_from_the_saved_step(tiny_bert, tmp_path):
    out = tmp_path / "r"
    train(config(tiny_bert, out, stop_after_steps=7, epochs=2))
    assert not (out / "whorf.json").exists()
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["global_step"] == 7
    train(config(tiny_bert, out, epochs=2))
    log = steps(out)
    steps_seen = [r["step"] for r in log]
    assert steps_seen == sorted(steps_seen) and len(steps_seen) == len(set(steps_seen))  # no step twice
    final = json.loads((out / "checkpoint" / "state.json").read_text())
    uninterrupted = tmp_path / "u"
    train(config(tiny_bert, uninterrupted, epochs=2))
    assert final["global_step"] == json.loads((uninterrupted / "checkpoint" / "state.json").read_text())["global_step"]
    assert (out / "whorf.json").exists()


def test_label_command_reports_per_file_stats(tmp_path):
    from whorf.cli.app import app
    from whorf.cli import compress_cmd, train_cmd  # noqa: F401

    out = tmp_path / "labels.jsonl"
    result = CliRunner().invoke(app, ["label", str(FIXTURES / "train_small.jsonl"), "--out", str(out), "--rule", "seed"])
    assert result.exit_code == 0, result.output
    assert "3 bad lines skipped" in result.output and "mk_in_ref" in result.output
    first = json.loads(out.read_text().splitlines()[0])
    assert len(first["tokens"]) == len(first["labels"]) == len(first["must_keep"])

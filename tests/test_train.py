import json

import numpy as np
from safetensors.torch import load_file
from typer.testing import CliRunner

from whorf import model as modeling
from whorf.train import provenance
from whorf.train.evaluate import loss as eval_loss
from whorf.train.examples import windows
from whorf.train.trainer import TrainConfig, load_splits, train

from conftest import FIXTURES


def config(tiny_bert, out, **kw):
    base = dict(data=[str(FIXTURES / "train_small.jsonl")], out=str(out), name="tiny-trained", backbone=str(tiny_bert),
                epochs=3, lr=3e-3, head_lr=1e-2, rank=4, alpha=8, layers=2, max_length=64, batch_size=4,
                held_out_pct=20, validation_pct=20, eval_rows=20, checkpoint_every=5, log_every=2)
    base.update(kw)
    return TrainConfig(**base)


def steps(out):
    return [json.loads(l) for l in (out / "train_log.jsonl").read_text().splitlines() if '"step"' in l]


class Quiet:
    def print(self, *a, **k):
        pass


def test_training_lowers_the_loss_and_saves_the_best_validation_epoch(tiny_bert, tmp_path):
    cfg = config(tiny_bert, tmp_path / "m")
    out = train(cfg)
    log = steps(out)
    assert np.mean([r["loss"] for r in log[:3]]) > np.mean([r["loss"] for r in log[-3:]])
    meta = json.loads((out / "whorf.json").read_text())
    training, evaluation = meta["training"], meta["evaluation"]
    assert meta["trained"] and training["data"][0]["sha256"] and training["data"][0]["skipped"] == 3
    assert training["selected_on"] == "validation" and training["rows"]["validation"] > 0 and training["rows"]["held_out"] > 0
    assert {"f1", "keep_rate", "exact_keep_pct_model", "exact_keep_pct_word_model", "override_delta"} <= evaluation["held_out"].keys()
    history = [h["val_loss"] for h in evaluation["history"]]
    assert len(history) == 3 and len(set(history)) == 3
    best = evaluation["best_epoch"]
    assert best["val_loss"] == min(history) and training["best_epoch"] == best["epoch"]
    # the saved model is the best validation epoch: its validation loss, recomputed from the files,
    # is the one recorded for that epoch (and not the last epoch's, unless the last is the best)
    loaded = modeling.load(out)
    splits = load_splits(cfg, Quiet())
    val = windows(splits.validation, loaded.tokenizer, loaded.config, cfg.must_weight)
    again = eval_loss(loaded.model, val, cfg.batch_size, loaded.tokenizer.pad_token_id, cfg.span_weight, False)
    assert abs(again - best["val_loss"]) < 1e-5
    assert not (out / "best.safetensors").exists()


def test_validation_and_held_out_rows_are_never_trained_on(tiny_bert):
    splits = load_splits(config(tiny_bert, "unused"), Quiet())
    texts = [{it.row.text for it in part} for part in (splits.train, splits.validation, splits.held_out)]
    assert all(texts) and not (texts[0] & texts[1]) and not (texts[0] & texts[2]) and not (texts[1] & texts[2])


def test_whorf_json_records_commit_data_profile_and_router(tiny_bert, tmp_path):
    out = train(config(tiny_bert, tmp_path / "p", epochs=1))
    training = json.loads((out / "whorf.json").read_text())["training"]
    assert training["git_commit"] and len(training["git_commit"]) == 40
    assert training["profile_hash"] == provenance.profile_hash("default") != provenance.profile_hash("seed")
    assert training["router_version"] == provenance.router_version()
    assert provenance.stale(training) == []
    assert provenance.stale({**training, "router_version": -1}) and provenance.stale({**training, "profile_hash": "0"})


def test_interrupted_training_resumes_to_the_same_weights(tiny_bert, tmp_path):
    out = tmp_path / "r"
    train(config(tiny_bert, out, stop_after_steps=7, epochs=2))
    assert not (out / "whorf.json").exists()
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["global_step"] == 7
    train(config(tiny_bert, out, epochs=2))
    steps_seen = [r["step"] for r in steps(out)]
    assert steps_seen == sorted(steps_seen) and len(steps_seen) == len(set(steps_seen))  # no step twice
    uninterrupted = train(config(tiny_bert, tmp_path / "u", epochs=2))
    a, b = load_file(str(out / "adapter.safetensors")), load_file(str(uninterrupted / "adapter.safetensors"))
    assert a.keys() == b.keys()
    for key in a:  # resuming restores weights, optimiser, schedule and data order
        np.testing.assert_allclose(a[key].numpy(), b[key].numpy(), atol=1e-5, err_msg=key)


def test_label_command_reports_per_file_stats(tmp_path):
    from whorf.cli.app import app
    from whorf.cli import compress_cmd, train_cmd  # noqa: F401

    out = tmp_path / "labels.jsonl"
    result = CliRunner().invoke(app, ["label", str(FIXTURES / "train_small.jsonl"), "--out", str(out), "--rule", "seed"])
    assert result.exit_code == 0, result.output
    assert "3 bad lines skipped" in result.output and "mk_in_ref" in result.output
    first = json.loads(out.read_text().splitlines()[0])
    assert len(first["tokens"]) == len(first["labels"]) == len(first["must_keep"])

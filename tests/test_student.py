"""The distilled student (whorf.train.student): the teacher's layers and heads, a symmetric directory
format (layers + heads; the embeddings are the backbone's), and a training run that moves it toward
the teacher's decisions."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from whorf import model as modeling
from whorf.backbone import BackboneError, truncate
from whorf.train.student import StudentConfig, make_student, train_student

from conftest import FIXTURES


def scores(loaded, ids):
    with torch.inference_mode():
        return loaded.model(ids, torch.ones_like(ids)).final.numpy()


IDS = torch.tensor([[101, 7592, 2088, 1010, 3231, 4064, 1997, 3642, 102], [101, 2054, 2003, 2023, 102, 0, 0, 0, 0]])


def test_student_keeps_the_teachers_chosen_layers_and_heads(tiny_model_dir):
    teacher = modeling.load(tiny_model_dir)
    student = make_student(teacher, [0, 3], "tiny-student")
    merged = modeling.merged_copy(teacher.model.encoder)
    got = student.model.encoder.encoder.layer
    assert len(got) == 2 and student.model.encoder.config.num_hidden_layers == 2
    for mine, theirs in ((got[0], merged.encoder.layer[0]), (got[1], merged.encoder.layer[3])):
        for (n, a), (_, b) in zip(mine.state_dict().items(), theirs.state_dict().items()):
            assert torch.equal(a, b), n
    for head in modeling.HEADS:
        for a, b in zip(getattr(student.model, head).state_dict().values(), getattr(teacher.model, head).state_dict().values()):
            assert torch.equal(a, b)
    assert student.config.layers == [0, 3] and student.config.lora is None
    # the teacher's decisions are unchanged by cutting a copy
    assert len(teacher.model.encoder.get_base_model().encoder.layer) == 4


def test_truncate_refuses_layers_that_do_not_exist(tiny_model_dir):
    teacher = modeling.load(tiny_model_dir)
    for bad in ([], [4], [-1]):
        with pytest.raises(BackboneError):
            truncate(modeling.merged_copy(teacher.model.encoder), bad)


def test_student_directory_saves_layers_and_heads_and_loads_to_the_same_scores(tiny_model_dir, tmp_path):
    teacher = modeling.load(tiny_model_dir)
    student = make_student(teacher, [1, 2], "tiny-student")
    with torch.no_grad():  # a trained student's layers differ from the teacher's
        for p in student.model.encoder.encoder.layer.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    out = modeling.save(student, tmp_path / "s")
    state = load_file(str(out / "adapter.safetensors"))
    assert not any(".embeddings." in k or k.startswith("encoder.embeddings") for k in state)
    assert any(k.startswith("encoder.encoder.layer.1.") for k in state) and not any("layer.2." in k for k in state)
    again = modeling.load(out)
    assert json.loads((out / "whorf.json").read_text())["layers"] == [1, 2]
    assert np.abs(scores(again, IDS) - scores(student, IDS)).max() < 1e-5
    resaved = modeling.save(again, tmp_path / "s2")
    second = load_file(str(resaved / "adapter.safetensors"))
    assert state.keys() == second.keys() and all(torch.equal(state[k], second[k]) for k in state)


@pytest.fixture()
def teacher_dir(tiny_model_dir, tmp_path):
    """The tiny model with a token head whose scores spread around the threshold and a strong LoRA
    on layer 2, which the student drops (the random tiny model keeps every word: nothing to learn)."""
    teacher = modeling.load(tiny_model_dir, merge=False)
    torch.manual_seed(1)
    with torch.no_grad():
        teacher.model.token_head.weight.normal_(0, 1.0)
        teacher.model.token_head.bias.zero_()
        for name, p in teacher.model.named_parameters():
            if "lora_B" in name and ".2." in name:
                p.normal_(0, 3.0)
    return modeling.save(teacher, tmp_path / "teacher")


def test_distillation_moves_the_student_toward_the_teacher(teacher_dir, tmp_path):
    cfg = StudentConfig(data=[str(FIXTURES / "train_small.jsonl")], out=str(tmp_path / "stu"), teacher=str(teacher_dir),
                        name="tiny-student", layers=[0, 3], epochs=3, lr=1e-3, head_lr=1e-3, batch_size=4,
                        held_out_pct=20, validation_pct=20, log_every=2)
    out = train_student(cfg)
    meta = json.loads((out / "whorf.json").read_text())
    ev = meta["evaluation"]
    best = max(h["token_agreement"] for h in ev["history"])
    assert meta["layers"] == [0, 3] and meta["training"]["distilled_from"]["teacher"] == "tiny"
    assert ev["validation_before"]["token_agreement"] < 0.99
    assert best > ev["validation_before"]["token_agreement"]
    log = [json.loads(l) for l in (out / "train_log.jsonl").read_text().splitlines() if '"step"' in l]
    assert np.mean([r["loss"] for r in log[:2]]) > np.mean([r["loss"] for r in log[-2:]])
    assert ev["best_epoch"] == max(ev["history"], key=lambda h: h["token_agreement"])["epoch"]
    gate = ev["teacher_gate_held_out"]
    assert gate["rows"] > 0 and 0.0 <= gate["agreement"] <= 1.0
    assert modeling.load(out).config.layers == [0, 3]


def test_an_interrupted_student_resumes_to_the_same_student(teacher_dir, tmp_path):
    def cfg(out, **kw):
        return StudentConfig(data=[str(FIXTURES / "train_small.jsonl")], out=str(out), teacher=str(teacher_dir),
                             name="tiny-student", layers=[0, 3], epochs=2, lr=1e-3, head_lr=1e-3, batch_size=4,
                             held_out_pct=20, validation_pct=20, log_every=2, checkpoint_every=5, **kw)

    out = tmp_path / "r"
    train_student(cfg(out, stop_after_steps=25))
    assert not (out / "whorf.json").exists()
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["global_step"] == 25 and state["epoch"] == 1 and len(state["history"]) == 1  # stopped in epoch 2
    assert (out / "best.safetensors").is_file()
    train_student(cfg(out))
    steps_seen = [json.loads(l)["step"] for l in (out / "train_log.jsonl").read_text().splitlines() if '"step"' in l]
    assert steps_seen == sorted(steps_seen) and len(steps_seen) == len(set(steps_seen))  # no step twice
    assert not (out / "checkpoint").exists() and not (out / "best.safetensors").exists()
    resumed = modeling.load(out)
    assert resumed.config.layers == [0, 3] and np.isfinite(scores(resumed, IDS)).all()
    uninterrupted = train_student(cfg(tmp_path / "u"))
    a, b = load_file(str(out / "adapter.safetensors")), load_file(str(uninterrupted / "adapter.safetensors"))
    assert a.keys() == b.keys()
    for key in a:  # resuming restores weights, optimiser, schedule and data order
        np.testing.assert_allclose(a[key].numpy(), b[key].numpy(), atol=1e-5, err_msg=key)
    ev_a, ev_b = (json.loads((d / "eval.json").read_text()) for d in (out, uninterrupted))
    assert ev_a["validation_before"] == ev_b["validation_before"] and ev_a["best_epoch"] == ev_b["best_epoch"]
    assert [h["epoch"] for h in ev_a["history"]] == [1, 2]
    for h_a, h_b in zip(ev_a["history"], ev_b["history"]):
        assert abs(h_a["distill_loss"] - h_b["distill_loss"]) < 1e-5 and h_a["token_agreement"] == h_b["token_agreement"]


def test_student_command(tiny_model_dir, tmp_path):
    from whorf.cli.app import app, register_commands

    register_commands()
    result = CliRunner().invoke(app, ["student", "--teacher", str(tiny_model_dir), "--data", str(FIXTURES / "train_small.jsonl"),
                                      "--out", str(tmp_path / "s"), "--layers", "0,2", "--epochs", "1", "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s" / "whorf.json").is_file()
    bad = CliRunner().invoke(app, ["student", "--teacher", str(tiny_model_dir), "--data", str(FIXTURES / "train_small.jsonl"),
                                   "--out", str(tmp_path / "t"), "--layers", "0,9"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_a_student_refuses_repeated_or_missing_layers_and_bad_settings(tiny_model_dir, tmp_path):
    teacher = modeling.load(tiny_model_dir)
    with pytest.raises(BackboneError, match="repeat"):
        make_student(teacher, [0, 0], "x")
    for bad in (dict(layers=[1, 1]), dict(layers=[]), dict(epochs=0), dict(batch_size=0)):
        with pytest.raises(ValueError):
            StudentConfig(data=[], out=str(tmp_path / "never"), **bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ValueError, match="no training"):
        train_student(StudentConfig(data=[str(empty)], out=str(tmp_path / "none"), teacher=str(tiny_model_dir), layers=[0, 1]))
    assert not (tmp_path / "none").exists()  # nothing written for a run that could not start


def test_a_student_of_a_student_records_the_backbone_layers_it_holds(tiny_model_dir, tmp_path):
    first = make_student(modeling.load(tiny_model_dir), [0, 2, 3], "first")
    modeling.save(first, tmp_path / "first")
    second = make_student(modeling.load(tmp_path / "first"), [0, 2], "second")
    assert second.config.layers == [0, 3]
    again = modeling.load(modeling.save(second, tmp_path / "second"))
    assert np.abs(scores(again, IDS) - scores(second, IDS)).max() < 1e-5


def test_a_directory_listing_repeated_layers_does_not_load(tiny_model_dir, tmp_path):
    student = make_student(modeling.load(tiny_model_dir), [0, 1], "s")
    out = modeling.save(student, tmp_path / "s")
    meta = json.loads((out / "whorf.json").read_text())
    meta["layers"] = [1, 1]
    (out / "whorf.json").write_text(json.dumps(meta))
    with pytest.raises(BackboneError):
        modeling.load(out)

import json
import time

from whorf.loop.selflabel import LoopConfig, converged, run_loop, selection_score
from whorf.train.trainer import TrainConfig

from conftest import FIXTURES


def loop_config(tiny_model_dir, tiny_bert, out, generations=2):
    train = TrainConfig(data=[], out="", backbone=str(tiny_bert), epochs=1, lr=3e-3, head_lr=1e-2, rank=4, alpha=8,
                        layers=2, max_length=64, batch_size=8, held_out_pct=20, eval_rows=10, checkpoint_every=50)
    return LoopConfig(start=str(tiny_model_dir), data=[str(FIXTURES / "train_small.jsonl")], out=str(out),
                      generations=generations, eval_data=[str(FIXTURES / "train_small.jsonl")], eval_rows=20,
                      min_ratio=1.05, train=train)


def test_two_generations_write_the_table_select_and_resume(tiny_model_dir, tiny_bert, tmp_path):
    started = time.time()
    out = tmp_path / "loop"
    cfg = loop_config(tiny_model_dir, tiny_bert, out, generations=1)
    state = run_loop(cfg, log=lambda s: None)
    assert [g["generation"] for g in state["generations"]] == [0, 1]
    # resume: asking for two generations continues at generation 2 without redoing 0 and 1
    gen1_mtime = (out / "gen1" / "model" / "whorf.json").stat().st_mtime
    state = run_loop(loop_config(tiny_model_dir, tiny_bert, out, generations=2), log=lambda s: None)
    assert [g["generation"] for g in state["generations"]] == [0, 1, 2]
    assert (out / "gen1" / "model" / "whorf.json").stat().st_mtime == gen1_mtime
    table = (out / "loop.md").read_text()
    assert "| 2 | generation 1 + override |" in table and "mk_in_ref" in table
    assert (out / "loop.png").stat().st_size > 1000
    saved = json.loads((out / "loop.json").read_text())
    gens = saved["generations"]
    best = max(gens, key=selection_score)
    assert saved["best"] == best["generation"]
    assert f"Best generation (by evaluation): {best['generation']}." in table
    if best["generation"] > 0:  # the link points at the selected generation's model, not the last one
        assert (out / "best").resolve() == (out / f"gen{best['generation']}" / "model").resolve()
    else:
        assert not (out / "best").exists()
    g1 = saved["generations"][1]
    assert g1["labels"]["pairs"] > 0 and 0 <= g1["labels"]["mk_in_ref"] <= 1
    assert {"exact_keep_pct", "exact_keep_pct_model", "override_delta", "keep_rate", "sem_sim"} <= g1["eval"].keys()
    assert time.time() - started < 120


def gen(g, delta, mk):
    return {"generation": g, "eval": {"override_delta": delta}, "labels": {"mk_in_ref": mk} if g else None}


def test_convergence_rule():
    assert not converged([gen(0, 0.03, None), gen(1, 0.0, 0.8)], 0.005)
    assert converged([gen(0, 0.0, None), gen(1, 0.0, 0.82), gen(2, 0.0, 0.823)], 0.005)
    assert not converged([gen(0, 0.0, None), gen(1, 0.0, 0.72), gen(2, 0.0, 0.82)], 0.005)  # labels still improving
    assert not converged([gen(0, 0.0, None), gen(1, 0.02, 0.82), gen(2, 0.0, 0.821)], 0.005)  # delta not yet stable


def evaluated(g, exact, sem, keep):
    return {"generation": g, "eval": {"exact_keep_pct_model": exact, "sem_sim": sem, "keep_rate": keep}}


def test_selection_prefers_model_alone_exact_keep_then_meaning_then_compression():
    gens = [evaluated(0, 0.90, 0.85, 0.5), evaluated(1, 0.95, 0.85, 0.5), evaluated(2, 0.93, 0.85, 0.5)]
    assert max(gens, key=selection_score)["generation"] == 1  # the last generation is not always the best
    assert selection_score(evaluated(0, 0.9, 0.9, 0.5)) > selection_score(evaluated(0, 0.9, 0.8, 0.5))
    assert selection_score(evaluated(0, 0.9, 0.9, 0.4)) > selection_score(evaluated(0, 0.9, 0.9, 0.5))

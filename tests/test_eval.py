import json

from typer.testing import CliRunner

import pytest

from whorf.eval import baselines, metrics
from whorf.eval import report as reports
from whorf.eval.runner import METRICS, MODEL, MODEL_ALONE, EvalConfig, run
from whorf.segment import rebuild, segment

from conftest import FIXTURES


def heretic_file(tmp_path):
    p = tmp_path / "heretic_mini.jsonl"
    rows = [
        {"prompt": "buffer overflow", "text": "Use gdb with -q and break at 0x08048484; the offset is 112 bytes before EIP, NOP sled of 64."},
        {"prompt": "dns poisoning", "text": "Spoof replies on UDP port 53 with TTL 86400 and transaction id 0x1f2e; CVE-2008-1447 applies."},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return p


def test_report_has_every_system_plots_and_skipped_rows(tiny_model_dir, tmp_path):
    cfg = EvalConfig(data=[str(FIXTURES / "train_small.jsonl")], heretic=[str(heretic_file(tmp_path))],
                     model=str(tiny_model_dir), curve_rows=10)
    result = run(cfg)
    reports.write(result, tmp_path / "report")
    ds, her = result["datasets"]
    assert ds["rows_total"] == 37 and ds["rows_scored"] == 34 and len(ds["skipped"]) == 3
    assert set(ds["systems"]) == {MODEL, MODEL_ALONE, "identity", "head+tail lines", "must-keep regex only", "random + override"}
    for name, m in ds["systems"].items():  # every system has every metric, F1 included
        assert set(m) == set(METRICS) and all(m[k] is not None for k in METRICS), name
    assert ds["systems"]["identity"]["exact_keep_pct"] == 1.0 and ds["systems"]["identity"]["keep_rate"] == 1.0
    assert ds["systems"]["identity"]["exact_keep_pct_word"] == 1.0
    assert ds["systems"][MODEL]["exact_keep_pct"] == 1.0 and ds["systems"][MODEL]["exact_keep_pct_word"] == 1.0
    assert ds["mk_in_ref"] is not None
    assert her["type"] == "heretic" and [p["prompt"] for p in her["prompts"]] == ["buffer overflow", "dns poisoning"]
    md = (tmp_path / "report" / "report.md").read_text()
    assert "| head+tail lines |" in md and "## heretic_mini (heretic)" in md
    alone = ds["systems"][MODEL_ALONE]
    assert f"**whorf alone: exact_keep_pct {alone['exact_keep_pct_word']:.3f}" in md and "1.0 by construction" in md
    for row in [ln for ln in md.splitlines() if ln.startswith("| ") and "---" not in ln and "| system |" in ln]:
        assert row.count("|") == len(METRICS) + 2
    for ds in result["datasets"]:
        for plot in ds["plots"]:
            assert (tmp_path / "report" / plot).stat().st_size > 5000


def test_regression_gate_trips_on_a_worse_configuration(tiny_model_dir, tmp_path):
    from whorf.cli import compress_cmd, eval_cmd, train_cmd  # noqa: F401
    from whorf.cli.app import app

    data = ["--heretic", str(heretic_file(tmp_path)), "--data", str(FIXTURES / "train_small.jsonl"), "--model", str(tiny_model_dir),
            "--curve-rows", "0"]
    runner = CliRunner()
    good = runner.invoke(app, ["eval", *data, "--threshold", "0.0", "--report", str(tmp_path / "good"), "--no-baselines"])
    assert good.exit_code == 0, good.output
    same = runner.invoke(app, ["eval", *data, "--threshold", "0.0", "--compare", str(tmp_path / "good" / "report.json"), "--fail-on-regression", "--no-baselines"])
    assert same.exit_code == 0, same.output
    worse = runner.invoke(app, ["eval", *data, "--threshold", "1.0", "--report", str(tmp_path / "worse"),
                                "--compare", str(tmp_path / "good" / "report.json"), "--fail-on-regression", "--no-baselines"])
    assert worse.exit_code == 3
    flagged = json.loads((tmp_path / "worse" / "report.json").read_text())["regressions"]
    assert any("prompt 'buffer overflow'" in r["what"] for r in flagged)
    assert any("exact_keep_pct (whorf (no override))" in r["what"] for r in flagged)


def test_word_level_exact_keep_counts_whole_words_only():
    original = "Process exited with SIGILL at 0x7fff2038 in libsystem_kernel.dylib"
    # the seed's substring metric counts "0", "7" and "2038" (inside 0x7fff2038) as kept by "exited 0 7 2038"
    assert metrics.exact_keep_pct(original, "exited 0 7 2038") == pytest.approx(3 / 5)
    assert metrics.exact_keep_pct_word(original, "exited 0 7 2038") == 0.0
    # must-keep words: SIGILL, 0x7fff2038, libsystem_kernel.dylib
    assert metrics.exact_keep_pct_word(original, "SIGILL 0x7fff2038") == pytest.approx(2 / 3)
    assert metrics.exact_keep_pct_word(original, "SIGILL, 0x7fff2038") == pytest.approx(1 / 3)  # "SIGILL," is not "SIGILL"
    assert metrics.exact_keep_pct_word("exit 3 then exit 3", "exit 3") == pytest.approx(1 / 2)  # repeats need copies
    assert metrics.exact_keep_pct_word("no patterns here", "") == 1.0


def test_head_tail_keeps_whole_lines_within_the_budget():
    text = "first line here\nmiddle one\nmiddle two\nlast line here\n"
    seg = segment(text)
    keep = baselines.head_tail(seg, 32)
    assert rebuild(seg, keep.tolist()) == "first line here\nlast line here\n"
    assert baselines.head_tail(seg, len(text)).all()
    assert not baselines.head_tail(seg, 4).any()


def test_keep_rate_matches_the_compressor_stats(tiny_compressor):
    # no negation, condition or imperative: their clauses would all be must-keep, and nothing left to decide
    prose = ("The deployment of the service stopped early because the worker was killed with SIGKILL during "
             "the rollout of 30 nodes, and the logs in /var/log/app show the reason for the failure in detail.")
    r = tiny_compressor.compress(prose, rate=0.4, domain="prose", min_prose_words=0, min_saving_tokens=0)
    assert 0 < r.stats.keep_rate < 1
    count = tiny_compressor.scorer.tokens.count
    assert metrics.keep_rate(count, [w.text for w in r.words if w.kept], r.stats.tokens_in) == pytest.approx(r.stats.keep_rate, abs=1e-4)
    assert metrics.keep_rate(count, r.text.split(), r.stats.tokens_in) == pytest.approx(r.stats.keep_rate, abs=1e-4)


def test_eval_runs_the_speed_gate_on_its_rows(tiny_model_dir, tmp_path):
    cfg = EvalConfig(data=[str(FIXTURES / "train_small.jsonl")], model=str(tiny_model_dir), baselines=False, curve_rows=0,
                     gate="onnx", gate_rows=8)
    result = run(cfg)
    gate = result["gate"]
    assert gate["rows"] == 8 and gate["candidate"] == "onnx" and gate["passed"] == (gate["agreement"] >= 0.99 and gate["exact_keep_pct_drop"] <= 0.005)
    reports.write(result, tmp_path / "r", plots=False)
    assert "## Speed gate" in (tmp_path / "r" / "report.md").read_text()

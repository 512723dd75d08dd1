import json

from typer.testing import CliRunner

from whorf.eval import report as reports
from whorf.eval.runner import MODEL, MODEL_ALONE, EvalConfig, run

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
    assert ds["systems"]["identity"]["exact_keep_pct"] == 1.0 and ds["systems"]["identity"]["keep_rate"] == 1.0
    assert ds["systems"][MODEL]["exact_keep_pct"] == 1.0
    assert ds["mk_in_ref"] is not None and ds["systems"][MODEL]["f1"] is not None
    assert her["type"] == "heretic" and [p["prompt"] for p in her["prompts"]] == ["buffer overflow", "dns poisoning"]
    md = (tmp_path / "report" / "report.md").read_text()
    assert "| head+tail lines |" in md and "## heretic_mini (heretic)" in md
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

"""``whorf batch``: one output row per input row whatever the row, the same bytes in one process and on
Ray (a local cluster, and a real one started with ``ray start``), resume after a kill, every source kind.

Ray comes with the ``scale`` extra; without it the Ray tests skip, except in CI (``WHORF_CI=1``), where
they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from whorf.batch.config import BatchConfig
from whorf.batch.run import BatchError, run
from whorf.batch.shards import Shard, plan, read

from conftest import FIXTURES, TOOL_OUTPUT

HOSTILE = [
    json.dumps({"text": TOOL_OUTPUT, "id": 1}).encode(),
    b"not json at all",
    b"\xff\xfe\x00 binary",
    b"",
    b"[1, 2, 3]",
    json.dumps({"no_text": True}).encode(),
    json.dumps({"text": "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 " * 200}, ensure_ascii=False).encode(),
    b"[" * 5000 + b"]" * 5000,
    json.dumps({"text": "x" * 200_000}).encode(),
    json.dumps({"text": "line with \u2028 separator\nand more", "query": "separator"}, ensure_ascii=False).encode(),
    b'{"text": NaN}',
    b"  {\"text\": \"padded row\"}  \r",
]


def corpus(path: Path, repeat: int = 3) -> Path:
    rows = list(HOSTILE)
    for txt in sorted((FIXTURES / "programs").glob("*.txt"))[:12]:
        rows.append(json.dumps({"text": txt.read_text(errors="replace"), "source": txt.stem}).encode())
    path.write_bytes(b"".join(r + b"\n" for r in rows * repeat))
    return path


def outputs(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(out.glob("part-*.jsonl")))


def need_ray():
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        if os.environ.get("WHORF_CI") == "1":
            pytest.fail("WHORF_CI=1 but ray is not installed (pip install 'whorf[scale]')")
        pytest.skip("ray is not installed")


def test_every_row_comes_back_as_compress_jsonl_writes_it(tmp_path):
    from whorf.compressor import Compressor
    from whorf.jsonl import compress_rows

    data = corpus(tmp_path / "in.jsonl", repeat=1)
    summary = run(BatchConfig("compress", [str(data)], str(tmp_path / "out"), local=True, shard_rows=5))
    got = outputs(tmp_path / "out")
    rows_in = data.read_bytes().split(b"\n")[:-1]
    assert summary["rows_in"] == summary["rows_out"] == len(rows_in) == got.count(b"\n")
    expected = []
    for row in compress_rows(Compressor(threads=1), data.read_bytes(), BatchConfig("compress", ["x"], "y").options()):
        if row.result is not None:
            row.result.stats.ms = 0.0
        expected.append(row.render())
    assert got == b"".join(expected)
    out_rows = got.split(b"\n")[:-1]
    assert out_rows[1] == b"not json at all" and out_rows[2] == HOSTILE[2]  # passed through byte for byte
    assert summary["reasons"]["invalid UTF-8 at byte 0"] == 1


def test_label_rows_read_back_as_training_data(tmp_path):
    from whorf import data as datasets

    src = tmp_path / "pairs.jsonl"
    rows = [json.dumps({"text": "The quick brown fox jumps over the lazy dog near the river bank",
                        "reference": "fox jumps over dog near river"}).encode(), b"garbage", b"{}"]
    src.write_bytes(b"\n".join(rows) + b"\n")
    run(BatchConfig("label", [str(src)], str(tmp_path / "out"), local=True))
    parts = list((tmp_path / "out").glob("part-*.jsonl"))
    lines = [json.loads(line) for line in parts[0].read_text().splitlines()]
    assert len(lines) == 3 and lines[1]["line"] == 2 and "error" in lines[1] and "error" in lines[2]
    good, report = datasets.read(parts[0])
    assert len(good) == 1 and good[0].kind == "labels" and len(report.skipped) == 2
    # whole phrases: "The quick brown fox jumps" (2 of 5 in the reference) | "over the lazy dog" (2 of 4) | ...
    assert lines[0]["tokens"][1] == "quick" and lines[0]["labels"][:5] == [0] * 5 and lines[0]["labels"][5:9] == [1] * 4


def test_pair_log_and_parquet_sources(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from whorf.data.pairs import PairLog, now

    url = f"sqlite:///{tmp_path / 'pairs.sqlite'}"
    log = PairLog(url)
    log.add([{"request_id": f"r{i}", "created_at": now(), "api": "anthropic", "tool_name": "Bash", "domain": "logs",
              "model_id": "whorf-micro", "original": TOOL_OUTPUT + f"\nrun {i}", "compressed": f"run {i} failed",
              "tokens_in": 10, "tokens_out": 2, "ms": 1.0, "decisions": "[]", "query": None} for i in range(7)])
    shards = plan([url], 3)
    assert [s.rows for s in shards] == [3, 3, 1] and all(s.kind == "sql" for s in shards)
    log.add([{"request_id": "late", "created_at": now(), "api": "anthropic", "tool_name": None, "domain": "prose",
              "model_id": "m", "original": "logged after the plan", "compressed": "after", "tokens_in": 1,
              "tokens_out": 1, "ms": 1.0, "decisions": "[]", "query": None}])
    assert sum(len(read(s)) for s in shards) == 7  # the plan's id ranges, not the table as it grows
    run(BatchConfig("label", [url], str(tmp_path / "labels"), local=True, shard_rows=3))
    labelled = [json.loads(x) for x in outputs(tmp_path / "labels").splitlines()]
    assert [row["pair_id"] for row in labelled] == list(range(1, 9))  # this run planned the table as it is now

    table = pa.table({"text": [TOOL_OUTPUT, "short prose row", None], "n": [1, 2, 3]})
    pq.write_table(table, tmp_path / "rows.parquet", row_group_size=2)
    summary = run(BatchConfig("compress", [str(tmp_path / "rows.parquet")], str(tmp_path / "pq"), local=True, shard_rows=2))
    rows = [json.loads(x) for x in outputs(tmp_path / "pq").splitlines()]
    assert summary["rows_out"] == 3 and rows[0]["n"] == 1 and "compressed" in rows[0]
    assert rows[2]["stats"]["passthrough"].startswith("no string field")


def test_directory_input_and_settings_guard(tmp_path):
    shards_dir = tmp_path / "shards"
    (shards_dir / "b").mkdir(parents=True)
    corpus(shards_dir / "a.jsonl", repeat=1)
    corpus(shards_dir / "b" / "c.jsonl", repeat=1)
    cfg = BatchConfig("compress", [str(shards_dir)], str(tmp_path / "out"), local=True, shard_rows=10)
    summary = run(cfg)
    assert summary["rows_out"] == 2 * (len(HOSTILE) + 12)
    with pytest.raises(BatchError, match="other settings"):
        run(replace(cfg, budget_tokens=100))
    with pytest.raises(BatchError, match="no such file"):
        run(replace(cfg, inputs=[str(tmp_path / "missing.jsonl")], output=str(tmp_path / "o2")))
    with pytest.raises(BatchError, match="no .jsonl or .parquet"):  # its part files are hidden in .counts
        run(replace(cfg, inputs=[str(tmp_path / "out" / ".counts")], output=str(tmp_path / "o3")))
    again = run(replace(cfg, inputs=[str(tmp_path / "out")], output=str(tmp_path / "o4")))  # an output as input
    assert again["rows_in"] == summary["rows_out"]


def test_selflabel_and_distill_targets_one_row_each(tmp_path):
    src = corpus(tmp_path / "in.jsonl", repeat=1)
    n = src.read_bytes().count(b"\n")
    for op in ("selflabel", "distill-targets"):
        summary = run(BatchConfig(op, [str(src)], str(tmp_path / op), model="whorf-micro", local=True, shard_rows=7))
        rows = [json.loads(x) for x in outputs(tmp_path / op).splitlines()]
        assert summary["rows_out"] == n == len(rows)
        assert [r["line"] for r in rows] == list(range(1, n + 1))
    targets = [json.loads(x) for x in outputs(tmp_path / "distill-targets").splitlines()]
    first = targets[0]
    assert len(first["tokens"]) == len(first["labels"]) == len(first["scores"]) and first["teacher"] == "whorf-micro"


def test_killed_job_resumes_from_finished_shards(tmp_path):
    src = corpus(tmp_path / "in.jsonl", repeat=8)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "whorf", "batch", "selflabel", str(src), str(out), "--local", "--shard-rows", "12"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while proc.poll() is None and len(list(out.glob("part-*.jsonl"))) < 3 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list(out.glob("part-*.jsonl")))
    total = len(json.loads((out / "plan.json").read_text())["shards"])
    assert 3 <= finished < total
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert f"resuming: {finished * 12} of" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["this_run"]["shards"] == total - finished
    assert summary["rows_out"] == src.read_bytes().count(b"\n")
    fresh = tmp_path / "fresh"
    subprocess.run([*cmd[:-4], str(fresh), "--local", "--shard-rows", "12"], check=True, capture_output=True)
    assert outputs(out) == outputs(fresh)


def test_ray_pool_gives_the_same_bytes_and_survives_a_killed_worker(tmp_path):
    need_ray()
    import psutil

    src = corpus(tmp_path / "in.jsonl", repeat=6)
    run(BatchConfig("selflabel", [str(src)], str(tmp_path / "local"), local=True, shard_rows=10))
    out = tmp_path / "ray"
    cmd = [sys.executable, "-m", "whorf", "batch", "selflabel", str(src), str(out), "--workers", "2", "--shard-rows", "10"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    killed = None
    deadline = time.time() + 180
    while proc.poll() is None and killed is None and time.time() < deadline:
        if list(out.glob("part-*.jsonl")):
            actors = [p for p in psutil.process_iter(["cmdline"]) if "ShardWorker" in " ".join(p.info["cmdline"] or [])]
            if actors:
                killed = actors[0].pid
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    stdout, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and killed is not None
    summary = json.loads(stdout)
    assert summary["mode"] == "ray" and summary["rows_out"] == src.read_bytes().count(b"\n")
    assert len(summary["this_run"]["processes"]) >= 2
    assert outputs(out) == outputs(tmp_path / "local")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_ray_cluster_by_address(tmp_path):
    """``ray start --head`` plus a second node process, then ``whorf batch --address``."""
    need_ray()
    ray_bin = Path(sys.executable).with_name("ray")
    port = _free_port()
    token = tmp_path / "ray-token"  # the cluster's auth token, shared by the head, the node and the driver
    token.write_text(secrets.token_hex(32))
    env = {**os.environ, "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    temp = Path("/tmp") / f"whorf-ray-{os.getpid()}"  # Ray's socket paths must stay short
    head = [str(ray_bin), "start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false",
            f"--temp-dir={temp}", "--disable-usage-stats"]
    subprocess.run(head, check=True, capture_output=True, env=env, timeout=120)
    try:
        address = f"127.0.0.1:{port}"
        subprocess.run([str(ray_bin), "start", f"--address={address}", "--num-cpus=1", "--disable-usage-stats"],
                       check=True, capture_output=True, env=env, timeout=120)
        src = corpus(tmp_path / "in.jsonl", repeat=2)
        result = subprocess.run([sys.executable, "-m", "whorf", "batch", "compress", str(src), str(tmp_path / "out"),
                                 "--address", address, "--workers", "2", "--shard-rows", "8"],
                                capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        summary = json.loads(result.stdout)
        assert summary["mode"] == "ray" and summary["rows_out"] == src.read_bytes().count(b"\n")
        run(BatchConfig("compress", [str(src)], str(tmp_path / "local"), local=True, shard_rows=8))
        a, b = outputs(tmp_path / "out"), outputs(tmp_path / "local")
        if a != b:
            diff = [(x, y) for x, y in zip(a.splitlines(), b.splitlines()) if x != y][:1]
            raise AssertionError(diff)
    finally:
        stop_cluster(temp)
        shutil.rmtree(temp, ignore_errors=True)


def stop_cluster(temp: Path) -> None:
    """Kill this test's Ray processes (those naming its temp dir, and their children), not every Ray process
    on the machine as ``ray stop`` would."""
    import psutil

    ours = []
    for p in psutil.process_iter(["cmdline"]):
        if str(temp) in " ".join(p.info["cmdline"] or []):
            ours.append(p)
            try:
                ours.extend(p.children(recursive=True))
            except psutil.Error:
                pass
    for p in ours:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(ours, timeout=30)


def test_shard_that_changed_since_the_plan_is_an_error(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text": "a"}\n{"text": "b"}\n')
    (shard,) = plan([str(src)], 10)
    src.write_bytes(b'{"text": "a"}\n')
    with pytest.raises(ValueError, match="changed since the plan"):
        read(Shard.from_dict({**shard.to_dict(), "end": 30}))


def test_hostile_settings_and_damaged_outputs(tmp_path):
    src = corpus(tmp_path / "in.jsonl", repeat=1)
    cfg = BatchConfig("compress", [str(src)], str(tmp_path / "out"), local=True, shard_rows=5)
    first = outputs(Path(run(cfg)["output"]))
    part = sorted((tmp_path / "out").glob("part-*.jsonl"))[1]
    part.write_bytes(part.read_bytes()[:100])  # damaged after it was written: done again
    again = run(cfg)
    assert again["this_run"]["shards"] == 1 and outputs(tmp_path / "out") == first
    src.write_bytes(src.read_bytes() + b'{"text": "one more"}\n')  # the input changed since the plan
    with pytest.raises(BatchError, match="changed since the plan"):
        run(cfg)
    (tmp_path / "orphans").mkdir()
    (tmp_path / "orphans" / "part-00000.jsonl").write_text("{}\n")
    with pytest.raises(BatchError, match="no plan.json"):
        run(replace(cfg, output=str(tmp_path / "orphans")))
    with pytest.raises(ValueError, match="unknown label rule"):
        run(BatchConfig("label", [str(src)], str(tmp_path / "bad-rule"), local=True, rule="bogus"))
    run(BatchConfig("label", [str(src)], str(tmp_path / "bad-rule"), local=True))  # nothing finished: planned again
    with pytest.raises(BatchError, match="no such database"):
        run(BatchConfig("label", [f"sqlite:///{tmp_path / 'typo.sqlite'}"], str(tmp_path / "db"), local=True))
    assert not (tmp_path / "typo.sqlite").exists()
    port = _free_port()
    with pytest.raises(BatchError, match="no Ray cluster answers"):
        run(BatchConfig("compress", [str(src)], str(tmp_path / "addr"), address=f"127.0.0.1:{port}"))


def test_rows_json_cannot_hold_and_binary_parquet_text(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "p.jsonl"
    src.write_bytes(b'{"text": "The quick brown fox jumps over the lazy dog in foo.py", "reference": "fox foo.py", '
                    b'"pair_id": NaN}\n{"text": "some words here", "spans": [{"start": null, "end": null}]}\n')
    run(BatchConfig("label", [str(src)], str(tmp_path / "l"), local=True))
    rows = [json.loads(x) for x in outputs(tmp_path / "l").splitlines()]
    assert len(rows) == 2 and "tokens" in rows[0] and "pair_id" not in rows[0] and "error" in rows[1]
    table = pa.table({"text": pa.array([b"The quick brown fox jumps over the lazy dog in foo.py"], pa.binary()),
                      "reference": ["fox foo.py"], "score": [float("nan")]})
    pq.write_table(table, tmp_path / "b.parquet")
    run(BatchConfig("label", [str(tmp_path / "b.parquet")], str(tmp_path / "pl"), local=True))
    (row,) = [json.loads(x) for x in outputs(tmp_path / "pl").splitlines()]
    assert row["tokens"][0] == "The"

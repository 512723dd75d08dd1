"""The real ``whorf`` command, run as a subprocess (as a user would)."""

import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def whorf(*args, stdin: bytes | None = None):
    return subprocess.run([sys.executable, "-m", "whorf", *args], input=stdin, capture_output=True, env=ENV, timeout=300)


def test_compress_file_with_stats(tiny_model_dir):
    r = whorf("compress", str(FIXTURES / "traceback.txt"), "--model", str(tiny_model_dir), "--stats")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "SIGILL" in out and "0x7fff2038" in out and "132." in out
    assert b"whorf: kept" in r.stderr and b"must-keep 1.000" in r.stderr


def test_compress_stdin_json(tiny_model_dir):
    r = whorf("compress", "-", "--model", str(tiny_model_dir), "--json", "--rate", "0.5", stdin=b"alpha beta gamma ERROR 42")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {"compressed", "words", "stats"} <= data.keys()
    assert data["stats"]["mode"] == "rate" and len(data["words"]) == 5


def test_compress_jsonl_keeps_objects_and_passes_bad_lines(tiny_model_dir, tmp_path):
    lines = [json.dumps({"id": 1, "text": "the worker crashed with SIGILL"}), "{broken", json.dumps({"id": 2, "output": "exit code 3"}), json.dumps([1])]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    r = whorf("compress", "--jsonl", str(src), "--model", str(tiny_model_dir), "--out", str(out), "--stats",
              "--min-prose-words", "0")  # short rows reach the word model (no gain floor)
    assert r.returncode == 0, r.stderr
    got = out.read_text().splitlines()
    assert len(got) == 4
    first = json.loads(got[0])
    assert first["id"] == 1 and "SIGILL" in first["compressed"] and "stats" in first
    assert got[1] == "{broken" and got[3] == "[1]"
    third = json.loads(got[2])  # the "output" field is found and compressed; the number is must-keep
    assert third["id"] == 2 and third["stats"]["words"] == 3 and third["stats"]["passthrough"] is None
    kept = third["compressed"].split()
    assert "3" in kept and kept == [w for w in "exit code 3".split() if w in kept]
    assert b"line 2" in r.stderr and b"line 4" in r.stderr


def test_explain_terminal_and_html(tiny_model_dir, tmp_path):
    page = tmp_path / "explain.html"
    r = whorf("explain", str(FIXTURES / "app.log"), "--model", str(tiny_model_dir), "--html", str(page))
    assert r.returncode == 0, r.stderr
    assert b"payment-service" in r.stdout
    html = page.read_text()
    assert "<html" in html and 'class="must"' in html and "score " in html
    r = whorf("explain", "-", "--model", str(tiny_model_dir), "--scores", "--min-prose-words", "0", stdin=b"exit code 132")
    assert b"132" in r.stdout and b"keep" in r.stdout


def test_binary_and_invalid_utf8_pass_through_byte_for_byte(tiny_model_dir):
    for data in (b"\x00\x01\xfe\xff binary", b"caf\xe9 \xff\xfe ok"):
        r = whorf("compress", "-", "--model", str(tiny_model_dir), "--stats", stdin=data)
        assert r.returncode == 0 and r.stdout == data
        assert b"passthrough" in r.stderr


def test_empty_input_passes_through(tiny_model_dir):
    r = whorf("compress", "-", "--model", str(tiny_model_dir), stdin=b"")
    assert r.returncode == 0 and r.stdout == b""


@pytest.mark.parametrize("args,message", [
    (["compress", "/no/such/file"], b"does not exist"),
    (["compress", "-", "--model", "/no/such/model"], b"not found"),
    (["compress", "-", "--domain", "spreadsheet"], b"unknown domain"),
    (["compress", "-", "--rate", "3"], b"rate must be"),
    (["compress", "-", "--runtime", "tpu"], b"unknown runtime"),
    (["compress", "-", "--jsonl", "--batch", "0"], b"--batch must be at least 1, not 0"),
    (["compress", "-", "--jsonl", "--batch", "-1"], b"--batch must be at least 1, not -1"),
])
def test_errors_are_one_line_never_a_traceback(tiny_model_dir, args, message):
    if "--model" not in args:
        args = [*args, "--model", str(tiny_model_dir)]
    r = whorf(*args, stdin=b'{"text": "some input"}')
    assert r.returncode == 2
    assert message in r.stderr
    assert b"Traceback" not in r.stderr
    assert len(r.stderr.decode().strip().splitlines()) == 1


def test_help_explains_options():
    r = whorf("compress", "--help")
    assert r.returncode == 0
    for opt in (b"--rate", b"--threshold", b"--no-override", b"--domain", b"--runtime", b"--json", b"--stats", b"--jsonl"):
        assert opt in r.stdout


def hostile_jsonl() -> tuple[bytes, int]:
    """100 rows: the rows that once ended a run (an escaped lone surrogate, JSON nested 3,000 deep in
    the text, line separators inside strings) among ordinary ones, then binary, invalid and deep rows."""
    rows = [json.dumps({"id": i, "text": f"row {i}: worker crashed with SIGILL at 0x7fff{i:04x}"}) for i in range(100)]
    rows[5] = '{"id": 5, "text": "lone \\ud800 surrogate"}'
    rows[32] = json.dumps({"id": 32, "text": "[" * 3000 + "]" * 3000})
    rows[40] = json.dumps({"id": 40, "text": "a\u2028b\u2029c\u0085d ERROR"}, ensure_ascii=False)
    rows[41] = json.dumps({"id": 41, "text": "a\u2028b ERROR"})
    data = ("\n".join(rows) + "\n").encode("utf-8") + b"\xff\xfe\x00 binary\n" + b"[" * 3000 + b"]" * 3000 + b"\n{broken\n"
    return data, 103


def test_jsonl_every_row_in_gives_one_row_out(tiny_model_dir, tmp_path):
    data, n = hostile_jsonl()
    r = whorf("compress", "--jsonl", "-", "--model", str(tiny_model_dir), "--batch", "7", "--stats", stdin=data)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split(b"\n")
    assert out[-1] == b"" and len(out) - 1 == n
    assert len(r.stdout.decode("utf-8", "surrogateescape").splitlines()) == n  # no line separator left raw
    objs = [json.loads(line) for line in out[:100]]
    assert [o["id"] for o in objs] == list(range(100))
    assert all("stats" in o for o in objs) and "surrogates" in objs[5]["stats"]["passthrough"]
    assert objs[40]["compressed"].count("ERROR") == 1 and objs[41]["stats"]["passthrough"] is None
    assert out[100] == b"\xff\xfe\x00 binary" and out[102] == b"{broken"
    assert b"103 rows" in r.stderr


def test_json_output_of_binary_input_is_valid_json(tiny_model_dir):
    data = b"\x00\x01\xfe\xff binary \xe2\x80\xa8"
    r = whorf("compress", "-", "--model", str(tiny_model_dir), "--json", stdin=data)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.decode("utf-8"))  # strict UTF-8: no raw bytes
    assert out["stats"]["passthrough"] == "binary input"
    assert out["compressed"].encode("utf-8", "surrogateescape") == data  # lossless, Python's convention


def test_explain_scores_prints_brackets_as_text(tiny_model_dir):
    r = whorf("explain", "-", "--model", str(tiny_model_dir), "--scores", "--min-prose-words", "0",
              stdin=b"[INST] exit code 132 [/INST] [bold]x[/bold]")
    assert r.returncode == 0, r.stderr
    assert b"[/INST]" in r.stdout and b"[bold]x[/bold]" in r.stdout


def test_deeply_nested_input_passes_through_or_compresses_without_a_crash(tiny_model_dir):
    data = b"[" * 1000 + b"]" * 1000
    r = whorf("compress", "-", "--model", str(tiny_model_dir), "--stats", stdin=data)
    assert r.returncode == 0 and b"Traceback" not in r.stderr
    assert r.stdout.strip(b"[]\n") == b""  # brackets only: nothing added

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
    r = whorf("compress", "--jsonl", str(src), "--model", str(tiny_model_dir), "--out", str(out), "--stats")
    assert r.returncode == 0, r.stderr
    got = out.read_text().splitlines()
    assert len(got) == 4
    first = json.loads(got[0])
    assert first["id"] == 1 and "SIGILL" in first["compressed"] and "stats" in first
    assert got[1] == "{broken" and got[3] == "[1]"
    assert json.loads(got[2])["compressed"].startswith("exit") or "3" in json.loads(got[2])["compressed"]
    assert b"line 2" in r.stderr


def test_explain_terminal_and_html(tiny_model_dir, tmp_path):
    page = tmp_path / "explain.html"
    r = whorf("explain", str(FIXTURES / "app.log"), "--model", str(tiny_model_dir), "--html", str(page))
    assert r.returncode == 0, r.stderr
    assert b"payment-service" in r.stdout
    html = page.read_text()
    assert "<html" in html and 'class="must"' in html and "score " in html
    r = whorf("explain", "-", "--model", str(tiny_model_dir), "--scores", stdin=b"exit code 132")
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
])
def test_errors_are_one_line_never_a_traceback(tiny_model_dir, args, message):
    if "--model" not in args:
        args = [*args, "--model", str(tiny_model_dir)]
    r = whorf(*args, stdin=b"some input")
    assert r.returncode != 0
    assert message in r.stderr
    assert b"Traceback" not in r.stderr
    assert len(r.stderr.decode().strip().splitlines()) == 1


def test_help_explains_options():
    r = whorf("compress", "--help")
    assert r.returncode == 0
    for opt in (b"--rate", b"--threshold", b"--no-override", b"--domain", b"--runtime", b"--json", b"--stats", b"--jsonl"):
        assert opt in r.stdout

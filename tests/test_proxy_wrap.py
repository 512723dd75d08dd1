"""``whorf wrap``: a fake agent on PATH (a real executable) shows the environment it was started with."""

import os
import signal
import stat
import subprocess
import sys
import time

import httpx
import pytest

from whorf.proxy.app import ProxyConfig, create_app

from servers import free_port, serve, upstream_app

RUN = "import whorf.cli.wrap_cmd; from whorf.cli import main; main()"  # registers wrap even before app.py lists it


def fake_agent(directory, name):
    path = directory / name
    path.write_text('#!/bin/sh\necho "ANTHROPIC=$ANTHROPIC_BASE_URL OPENAI=$OPENAI_BASE_URL ARGS=$*"\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def wrap(args, bin_dir, tmp_path, timeout=300):
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", XDG_CACHE_HOME=str(tmp_path / "cache"), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-c", RUN, "wrap", *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.mark.parametrize("agent, expected", [("claude", "ANTHROPIC={url} OPENAI= ARGS="),
                                             ("codex", "ANTHROPIC= OPENAI={url}/v1 ARGS=-c openai_base_url={url}/v1 ")])
def test_wrap_points_the_agent_at_a_running_proxy(worker, tmp_path, agent, expected):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_agent(bin_dir, agent)
    port = free_port()
    with serve(upstream_app()) as up, serve(create_app(ProxyConfig(upstream=up), worker=worker), port=port) as url:
        out = wrap([agent, "--port", str(port), "--print", "hello world"], bin_dir, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected.format(url=url) + "--print hello world"
    assert "using proxy" in out.stderr


def test_wrap_says_clearly_when_the_agent_is_missing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env_path = f"{empty}{os.pathsep}{os.path.dirname(sys.executable)}"
    out = subprocess.run([sys.executable, "-c", RUN, "wrap", "claude", "--bin", "no-such-agent-xyz"], capture_output=True,
                         text=True, env=dict(os.environ, PATH=env_path), timeout=120)
    assert out.returncode == 2 and "no-such-agent-xyz was not found on PATH" in out.stderr
    assert "Traceback" not in out.stderr


def test_wrap_starts_a_proxy_when_none_is_running(tiny_model_dir, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_agent(bin_dir, "claude")
    port = free_port()
    with serve(upstream_app()) as up:
        out = wrap(["claude", "--port", str(port), "--upstream", up, "--model", str(tiny_model_dir), "x"], bin_dir, tmp_path)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"ANTHROPIC=http://127.0.0.1:{port} OPENAI= ARGS=x" and "started proxy" in out.stderr
        stats = httpx.get(f"http://127.0.0.1:{port}/stats", timeout=10).json()  # still running for the next session
        os.kill(stats["pid"], signal.SIGTERM)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/stats", timeout=1)
                time.sleep(0.2)
            except httpx.HTTPError:
                break

"""Real coding agents through the proxy: Claude Code and the Codex CLI (installed from npm by .ci/run) run
real commands that a scripted upstream speaking their API asks for; their tool outputs reach the upstream
compressed, listing lines verbatim, byte-stable in the next request, and the agent's final answer arrives.

Without a CLI its test skips, except in CI (``WHORF_CI=1``), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from whorf.proxy.app import ProxyConfig, create_app
from whorf.structure.markers import MARKER_LINE

from servers import anthropic_agent_upstream, free_port, responses_agent_upstream, serve

pytestmark = pytest.mark.slow  # real agents, a browser or a database: make test-quick skips them

PACKAGES = {"codex": "@openai/codex", "claude": "@anthropic-ai/claude-code"}


def _agent(name: str) -> str:
    path = shutil.which(name) or str(Path.home() / ".whorf-agents" / "bin" / name)
    if not os.access(path, os.X_OK):
        if os.environ.get("WHORF_CI") == "1":
            pytest.fail(f"WHORF_CI=1 but the {name} CLI is not installed (.ci/run installs {PACKAGES[name]})")
        pytest.skip(f"the {name} CLI is not installed (npm install -g {PACKAGES[name]})")
    return path


def _wrap(agent: str, binary: str, port: int, args: list[str], env: dict, cwd) -> subprocess.CompletedProcess:
    """``whorf wrap AGENT`` with the real CLI, pointed at the proxy already running on ``port``."""
    import sys

    return subprocess.run([sys.executable, "-m", "whorf", "wrap", agent, "--port", str(port), "--bin", binary, *args],
                          env={**env, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=240, cwd=cwd)


def _bytes_ratio(app) -> float:
    """Bytes of the tool outputs the upstream got / bytes the agent sent (from the proxy's pair log)."""
    pairs = list(app.state.proxy.pairs.iter_pairs())
    assert pairs
    return sum(len(p.compressed) for p in pairs) / sum(len(p.original) for p in pairs)


NAMES = sorted(n for n in __import__("sys").stdlib_module_names if n.isalpha())[:80]  # 80 distinct real names
USERS = [{"id": i, "name": name, "roles": ["dev", "ops"][: i % 2 + 1], "active": i % 3 != 0,
          "quota": {"disk": i * 10, "cpu": i % 4}} for i, name in enumerate(NAMES)]
COMMANDS = ["python3 -m json.tool users.json", "ls -l /usr/bin | head -60"]  # an API answer read, a listing


def _users(cwd: Path) -> None:
    (cwd / "users.json").write_text(json.dumps({"users": USERS}))


def _check_outputs(outputs: list[str], listing: str) -> None:
    """The JSON came up compressed and every record's values are there; the listing lines are real ones."""
    first, second = outputs
    missing = [name for name in NAMES if f"\"{name}\"" not in first]
    assert "whorf_columns" in first and not missing, missing  # every record's name
    listed = [ln for ln in second.splitlines() if ln.startswith(("-rw", "lrw", "drw"))]
    assert listed and all(ln in set(listing.splitlines()) for ln in listed)


def _session(agent: str, upstream, args: list[str], env: dict, worker, tmp_path):
    """One agent run through ``whorf wrap`` and a proxy (pair log on) in front of ``upstream``:
    (the run, the proxy's /stats, tool-output bytes upstream / bytes the agent sent, the listing it read)."""
    binary = _agent(agent)
    listing = subprocess.run(["ls", "-l", "/usr/bin"], capture_output=True, text=True).stdout
    _users(tmp_path)
    port = free_port()
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=100, deadline_ms=60_000, log_pairs=True,
                                     db_url=f"sqlite:///{tmp_path / 'pairs.sqlite'}"), worker=worker)
        with serve(app, port=port) as proxy:
            run = _wrap(agent, binary, port, args, env, tmp_path)
            stats = json.loads(__import__("httpx").get(f"{proxy}/stats").text)
            ratio = _bytes_ratio(app)
    return run, stats, ratio, listing


def test_codex_runs_real_commands_through_the_proxy_and_its_outputs_go_up_compressed(worker, tmp_path):
    upstream = responses_agent_upstream(COMMANDS)
    (tmp_path / "codex-home").mkdir()
    env = dict(os.environ, CODEX_HOME=str(tmp_path / "codex-home"), OPENAI_API_KEY="sk-test")
    run, stats, ratio, listing = _session(
        "codex", upstream, ["exec", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox",
                            "list the binaries"], env, worker, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "FINAL ANSWER: done" in run.stdout  # the agent's final answer arrived
    bodies = [json.loads(raw) for raw in upstream.state.received]
    outputs = [i["output"] for i in bodies[-1]["input"] if isinstance(i, dict) and i.get("type") == "function_call_output"]
    assert len(outputs) == 2 and stats["tool_outputs_compressed"] >= 1 and stats["failures"] == 0
    assert stats["websocket_refused"] >= 1  # its WebSocket attempt got a 426 and it went on over HTTPS
    assert ratio <= 0.6, ratio
    usage = stats["usage"]["total"]  # the upstream's usage figures, read from its streamed answers
    assert usage["requests"] == 3 and usage["tokens_output"] == 15 and usage["tokens_saved"] > 0
    first = outputs[0]
    _check_outputs(outputs, listing)
    earlier = [i for i in bodies[1]["input"] if isinstance(i, dict) and i.get("type") == "function_call_output"]
    assert earlier[0]["output"] == first  # the earlier output is byte-stable in the later request


def _tool_results(body: dict) -> list[str]:
    out = []
    for m in body["messages"]:
        for b in m["content"] if isinstance(m.get("content"), list) else []:
            if isinstance(b, dict) and b.get("type") == "tool_result":
                c = b["content"]
                out.append(c if isinstance(c, str) else "".join(p.get("text", "") for p in c if isinstance(p, dict)))
    return out


def test_claude_code_runs_real_commands_through_the_proxy_and_its_outputs_go_up_compressed(worker, tmp_path):
    upstream = anthropic_agent_upstream(COMMANDS)
    (tmp_path / "home").mkdir()
    env = dict(os.environ, HOME=str(tmp_path / "home"), ANTHROPIC_API_KEY="sk-ant-test", DISABLE_TELEMETRY="1",
               CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1")
    run, stats, ratio, listing = _session("claude", upstream, ["-p", "list the binaries", "--allowedTools", "Bash"],
                                          env, worker, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "FINAL ANSWER: done" in run.stdout
    bodies = [json.loads(raw) for raw in upstream.state.received]
    results = _tool_results(bodies[-1])
    assert len(results) == 2 and stats["tool_outputs_compressed"] >= 1 and stats["failures"] == 0
    _check_outputs(results, listing)
    assert _tool_results(bodies[-2])[0] == results[0]  # byte-stable in the later request
    assert ratio <= 0.6, ratio
    usage = stats["usage"]["total"]
    assert usage["tokens_output"] >= 15 and usage["tokens_saved"] > 0 and usage["cost"] > 0

"""Real coding agents through the proxy: the Codex CLI (installed from npm by .ci/run) runs real commands
that a scripted Responses API upstream asks for; its tool outputs reach the upstream compressed.

Without the CLI the test skips, except in CI (``WHORF_CI=1``), where it fails.
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

from servers import responses_agent_upstream, serve

CODEX = shutil.which("codex") or str(Path.home() / ".whorf-agents" / "bin" / "codex")


def _codex() -> str:
    if not os.access(CODEX, os.X_OK):
        if os.environ.get("WHORF_CI") == "1":
            pytest.fail("WHORF_CI=1 but the codex CLI is not installed (.ci/run installs @openai/codex)")
        pytest.skip("the codex CLI is not installed (npm install -g @openai/codex)")
    return CODEX


def test_codex_runs_real_commands_through_the_proxy_and_its_outputs_go_up_compressed(worker, tmp_path):
    codex = _codex()
    listing = subprocess.run(["ls", "-l", "/usr/bin"], capture_output=True, text=True).stdout
    upstream = responses_agent_upstream(["ls -l /usr/bin", "ls -l /usr/bin | head -40"])
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=100, deadline_ms=60_000), worker=worker)
        with serve(app) as proxy:
            env = dict(os.environ, CODEX_HOME=str(tmp_path / "codex-home"), OPENAI_API_KEY="sk-test")
            (tmp_path / "codex-home").mkdir()
            run = subprocess.run([codex, "-c", f"openai_base_url={proxy}/v1", "exec", "--skip-git-repo-check",
                                  "--dangerously-bypass-approvals-and-sandbox", "list the binaries"],
                                 env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path)
            stats = json.loads(__import__("httpx").get(f"{proxy}/stats").text)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "FINAL ANSWER: done" in run.stdout  # the agent's final answer arrived
    bodies = [json.loads(raw) for raw in upstream.state.received]
    outputs = [i["output"] for i in bodies[-1]["input"] if isinstance(i, dict) and i.get("type") == "function_call_output"]
    assert len(outputs) == 2 and stats["tool_outputs_compressed"] >= 1 and stats["failures"] == 0
    first = outputs[0]
    assert MARKER_LINE.search(first) or len(first) < 0.8 * len(listing)  # compressed
    real = set(listing.splitlines())
    listed = [ln for ln in first.splitlines() if ln.startswith(("-rw", "lrw", "drw"))]
    assert listed and all(ln in real for ln in listed)  # every listing line the upstream saw is a real one
    earlier = [i for i in bodies[1]["input"] if isinstance(i, dict) and i.get("type") == "function_call_output"]
    assert earlier[0]["output"] == first  # the earlier output is byte-stable in the later request

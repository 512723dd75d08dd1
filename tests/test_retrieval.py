"""Every omission one call away, by default: a compressed output with markers ends with the shell command
that prints an omitted part; the real ``whorf retrieve`` CLI prints it byte for byte from the store the
proxy wrote; when the agent runs it, the proxy counts the retrieval (once per call, per tool and shape),
forwards that original uncompressed, and after enough retrievals relaxes the shape for the session."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from whorf.proxy.app import ProxyConfig, create_app
from whorf.proxy.feedback import RETRIEVE
from whorf.data.pairs import PairLog
from whorf.structure.markers import MARKER_LINE

from servers import serve, upstream_app

LOG = "".join(
    f"2026-11-20 14:{m:02d}:{s:02d},{100 + s} INFO  [http] GET /health 200 {1 + s % 3}ms\n"
    if s % 10 else f"2026-11-20 14:{m:02d}:{s:02d},{100 + s} WARN  [db] slow query {m}-{s} took {900 + s}ms\n"
    for m in range(2) for s in range(60))
HEADERS = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}


def _turns(*calls):
    """A Claude-Code-like conversation: the user's task, then each (call id, command, its output)."""
    messages = [{"role": "user", "content": "Run the shell commands you are asked to run, then report."}]
    for call, command, output in calls:
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": call, "name": "Bash", "input": {"command": command}}]})
        messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": call, "content": output}]})
    return {"model": "claude", "max_tokens": 50, "metadata": {"user_id": "session-1"}, "messages": messages}


def _sent(upstream) -> list[str]:
    body = json.loads(upstream.state.received[-1]["body"])
    return [m["content"][0]["content"] for m in body["messages"] if m["role"] == "user" and isinstance(m["content"], list)]


@pytest.fixture()
def stack(worker, tmp_path):
    upstream = upstream_app()
    with serve(upstream) as up:
        config = ProxyConfig(upstream=up, log_pairs=True, db_url=f"sqlite:///{tmp_path / 'pairs.sqlite'}",
                             min_chars=100, deadline_ms=60_000)
        app = create_app(config, worker=worker)
        with serve(app) as proxy:
            yield proxy, upstream, app, tmp_path


def _retrieve(handle: str) -> str:
    run = subprocess.run([sys.executable, "-m", "whorf", "retrieve", handle], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_markers_name_the_command_the_agent_runs_and_the_proxy_counts_it(stack):
    proxy, upstream, app, tmp_path = stack
    assert httpx.post(f"{proxy}/v1/messages", json=_turns(("t1", "cat app.log", LOG)), headers=HEADERS).status_code == 200
    (shown,) = _sent(upstream)
    last = shown.splitlines()[-1]
    assert RETRIEVE.search(last), last  # the way back, once, at the end
    handles = [MARKER_LINE.match(ln).group(3) for ln in shown.splitlines() if MARKER_LINE.match(ln)]
    assert handles and handles[0] in last
    original = _retrieve(handles[0])
    assert original and original in LOG  # byte for byte, from the store the proxy's worker wrote

    # the agent runs the command it was shown; its output goes up whole, and the retrieval is counted once
    calls = [("t1", "cat app.log", LOG), ("t2", f"whorf retrieve {handles[0]}", original)]
    for _ in range(2):  # the same history again: not counted twice
        assert httpx.post(f"{proxy}/v1/messages", json=_turns(*calls), headers=HEADERS).status_code == 200
    assert _sent(upstream)[1] == original
    stats = httpx.get(f"{proxy}/stats").json()
    assert stats["retrievals"] == 1
    assert stats["retrievals_by_tool_shape"] == {"Bash/log": 1}
    app.state.proxy.writer.flush()
    (row,) = PairLog(f"sqlite:///{tmp_path / 'pairs.sqlite'}").retrievals()
    assert (row.handle, row.tool, row.shape, row.session) == (handles[0], "Bash", "log", "session-1")

    # a second retrieval in the session: the model asked back more than a quarter of what the log shape
    # omitted, so that shape gets the normal budget for the rest of the session
    calls.append(("t3", f"whorf retrieve '{handles[-1]}'", _retrieve(handles[-1])))
    assert httpx.post(f"{proxy}/v1/messages", json=_turns(*calls), headers=HEADERS).status_code == 200
    stats = httpx.get(f"{proxy}/stats").json()
    assert stats["retrievals"] == 2 and stats["relaxed_shapes"] == {"session-1": ["log"]}
    calls.append(("t4", "cat other.log", LOG.replace("slow query", "slow read")))
    assert httpx.post(f"{proxy}/v1/messages", json=_turns(*calls), headers=HEADERS).status_code == 200
    assert httpx.get(f"{proxy}/stats").json()["relaxed_outputs"] == 1


def test_without_markers_no_hint_is_added(stack):
    proxy, upstream, _, _ = stack
    text = "".join(f"2026-11-20 14:00:{s:02d},000 INFO [job] step {s} of 40 wrote shard-{s * 7919 % 1000}\n"
                   for s in range(40))
    httpx.post(f"{proxy}/v1/messages", json=_turns(("t1", "cat job.log", text)), headers=HEADERS)
    (shown,) = _sent(upstream)
    assert not RETRIEVE.search(shown)

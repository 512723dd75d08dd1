import asyncio
import json
import time

import httpx
import pytest

from whorf.proxy.app import ProxyConfig, create_app
from whorf.proxy.pairs import PairLog
from whorf.train.data import read

from conftest import FIXTURES
from servers import SSE_DELAY, SSE_EVENTS, serve, upstream_app

TOOL_OUTPUT = (FIXTURES / "traceback.txt").read_text()
MUST = ["SIGILL", "0x7fff2038", "132.", "/srv/app/worker/main.py", "EXC_BAD_INSTRUCTION", "not"]
SECRET = "sk-ant-test-SECRET-123"


def anthropic_body(stream=False, text=TOOL_OUTPUT):
    return {"model": "claude", "max_tokens": 100, "stream": stream, "messages": [
        {"role": "user", "content": "Run the job and tell me why it failed."},
        {"role": "assistant", "content": [{"type": "text", "text": "Running it."},
                                          {"type": "tool_use", "id": "tu_1", "name": "bash", "input": {"cmd": "run"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": text},
                                     {"type": "tool_result", "tool_use_id": "tu_1", "content": [{"type": "text", "text": text}]}]},
    ]}


def openai_body(stream=False):
    return {"model": "gpt", "stream": stream, "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "why did it fail?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": TOOL_OUTPUT},
    ]}


@pytest.fixture()
def stack(tiny_compressor, tmp_path):
    upstream = upstream_app()
    with serve(upstream) as up:
        config = ProxyConfig(upstream=up, log_pairs=True, db_url=f"sqlite:///{tmp_path / 'pairs.sqlite'}", min_chars=100,
                             max_queue=1000, deadline_ms=60_000)  # the load test wants every output compressed
        app = create_app(config, tiny_compressor)
        with serve(app) as proxy:
            yield proxy, upstream, app, tmp_path


def test_anthropic_tool_results_are_compressed_with_every_must_keep_word(stack):
    proxy, upstream, _, _ = stack
    body = anthropic_body()
    r = httpx.post(f"{proxy}/v1/messages", json=body, headers={"x-api-key": SECRET, "anthropic-version": "2023-06-01"})
    assert r.status_code == 200 and r.json()["content"][0]["text"] == "ok ünïcode"
    got = json.loads(upstream.state.received[-1]["body"])
    first, second = got["messages"][2]["content"]
    for compressed in (first["content"], second["content"][0]["text"]):
        assert len(compressed) < len(TOOL_OUTPUT)
        for word in MUST:
            assert word in compressed
    assert got["messages"][:2] == body["messages"][:2]  # non-tool messages unchanged
    assert upstream.state.received[-1]["headers"]["x-api-key"] == SECRET


def test_openai_tool_messages_are_compressed_and_the_response_is_byte_identical(stack):
    proxy, upstream, _, _ = stack
    body = openai_body()
    direct = httpx.post(f"{upstream_url(stack)}/v1/chat/completions", json=body)
    via = httpx.post(f"{proxy}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {SECRET}"})
    assert via.content == direct.content and via.status_code == direct.status_code
    got = json.loads(upstream.state.received[-1]["body"])
    assert got["messages"][:3] == body["messages"][:3]
    assert all(w in got["messages"][3]["content"] for w in MUST)
    assert len(got["messages"][3]["content"]) < len(TOOL_OUTPUT)


def upstream_url(stack):
    proxy, upstream, app, _ = stack
    return app.state.proxy.config.upstream


def test_streamed_responses_arrive_chunk_by_chunk(stack):
    proxy, _, _, _ = stack
    arrivals, chunks = [], []
    with httpx.stream("POST", f"{proxy}/v1/messages", json=anthropic_body(stream=True), timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream") and r.headers["x-upstream"] == "sse"
        for chunk in r.iter_raw():
            arrivals.append(time.perf_counter())
            chunks.append(chunk)
    data = b"".join(chunks)
    assert data.count(b"event: delta") == SSE_EVENTS
    assert len(chunks) >= SSE_EVENTS - 1
    assert arrivals[-1] - arrivals[0] >= (SSE_EVENTS - 2) * SSE_DELAY  # not buffered into one piece


def test_bypass_header_forwards_the_original_bytes(stack):
    proxy, upstream, _, _ = stack
    raw = json.dumps(anthropic_body()).encode()
    r = httpx.post(f"{proxy}/v1/messages", content=raw, headers={"content-type": "application/json", "x-whorf-bypass": "1"})
    assert r.status_code == 200
    assert upstream.state.received[-1]["body"] == raw
    assert "x-whorf-bypass" not in upstream.state.received[-1]["headers"]


def test_other_routes_and_upstream_errors_pass_unchanged(stack):
    proxy, upstream, _, _ = stack
    r = httpx.get(f"{proxy}/v1/models", headers={"authorization": f"Bearer {SECRET}"})
    assert r.json() == {"data": [{"id": "m"}]}
    assert upstream.state.received[-1]["headers"]["authorization"] == f"Bearer {SECRET}"
    r = httpx.post(f"{proxy}/v1/fail", json={"x": 1})
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert r.json() == {"error": {"type": "rate_limit_error", "message": "slow down"}}


def test_deadline_forwards_the_original_and_counts_the_failure(tiny_compressor, tmp_path):
    upstream = upstream_app()
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=10, deadline_ms=0.01), tiny_compressor)
        with serve(app) as proxy:
            raw = json.dumps(openai_body()).encode()
            r = httpx.post(f"{proxy}/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
            assert r.status_code == 200
            assert upstream.state.received[-1]["body"] == raw
            assert httpx.get(f"{proxy}/stats").json()["failures"] == 1


def test_pair_log_survives_restart_and_exports_training_rows(tiny_compressor, tmp_path):
    db = f"sqlite:///{tmp_path / 'pairs.sqlite'}"
    upstream = upstream_app()
    with serve(upstream) as up:
        for _ in range(2):  # two proxy lifetimes on the same database
            app = create_app(ProxyConfig(upstream=up, log_pairs=True, db_url=db, min_chars=100), tiny_compressor)
            with serve(app) as proxy:
                httpx.post(f"{proxy}/v1/chat/completions", json=openai_body(), headers={"authorization": f"Bearer {SECRET}"})
    log = PairLog(db)
    assert log.count() == 2
    assert SECRET.encode() not in (tmp_path / "pairs.sqlite").read_bytes()
    out = tmp_path / "pairs.jsonl"
    assert log.export(out)["written"] == 2
    rows, report = read(out)
    assert len(rows) == 2 and not report.skipped
    assert rows[0].kind == "pair" and rows[0].source == "proxy" and rows[0].text == TOOL_OUTPUT


def test_load_200_requests_at_concurrency_20(stack):
    proxy, upstream, app, tmp_path = stack
    before = len(upstream.state.received)

    async def run():
        sem = asyncio.Semaphore(20)
        async with httpx.AsyncClient(timeout=60) as client:
            async def one(i):
                async with sem:
                    body = openai_body()
                    body["messages"][3]["content"] = TOOL_OUTPUT + f"\nrequest number {i}"
                    return await client.post(f"{proxy}/v1/chat/completions", json=body)
            return await asyncio.gather(*(one(i) for i in range(200)))

    responses = asyncio.run(run())
    assert all(r.status_code == 200 for r in responses)
    assert len(upstream.state.received) - before == 200
    stats = httpx.get(f"{proxy}/stats").json()
    assert stats["failures"] == 0 and stats["tool_outputs_compressed"] == 200
    proxy_obj = app.state.proxy
    deadline = time.time() + 30
    while proxy_obj.pairs.count() < 200 and time.time() < deadline:
        time.sleep(0.1)
    pairs = list(proxy_obj.pairs.iter_pairs())
    assert len(pairs) == 200
    assert len({p.original for p in pairs}) == 200  # each request's output logged exactly once


def test_full_queue_sheds_load_by_forwarding_originals_at_once(tiny_compressor):
    upstream = upstream_app()
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=10, max_queue=0), tiny_compressor)
        with serve(app) as proxy:
            raw = json.dumps(openai_body()).encode()
            r = httpx.post(f"{proxy}/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
            assert r.status_code == 200 and upstream.state.received[-1]["body"] == raw
            stats = httpx.get(f"{proxy}/stats").json()
            assert stats["shed"] == 1 and stats["failures"] == 0 and stats["tool_outputs_compressed"] == 0

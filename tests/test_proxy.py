import asyncio
import json
import time

import httpx
import pytest

from whorf.proxy.app import ProxyConfig, create_app
from whorf.data.pairs import PairLog
from whorf.data import read

from conftest import FIXTURES, TOOL_OUTPUT
from servers import SSE_DELAY, SSE_EVENTS, serve, upstream_app

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
def stack(worker, tmp_path):
    upstream = upstream_app()
    with serve(upstream) as up:
        config = ProxyConfig(upstream=up, log_pairs=True, db_url=f"sqlite:///{tmp_path / 'pairs.sqlite'}", min_chars=100,
                             max_queue=1000, deadline_ms=60_000)  # the load test wants every output compressed
        app = create_app(config, worker=worker)
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


def test_deadline_forwards_the_original_and_counts_the_failure(worker, tmp_path):
    upstream = upstream_app()
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=10, deadline_ms=0.01), worker=worker)
        with serve(app) as proxy:
            raw = json.dumps(openai_body()).encode()
            r = httpx.post(f"{proxy}/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
            assert r.status_code == 200
            assert upstream.state.received[-1]["body"] == raw
            assert httpx.get(f"{proxy}/stats").json()["failures"] == 1


def test_pair_log_survives_restart_and_exports_training_rows(worker, tmp_path):
    db = f"sqlite:///{tmp_path / 'pairs.sqlite'}"
    upstream = upstream_app()
    with serve(upstream) as up:
        for _ in range(2):  # two proxy lifetimes on the same database
            app = create_app(ProxyConfig(upstream=up, log_pairs=True, db_url=db, min_chars=100), worker=worker)
            with serve(app) as proxy:
                httpx.post(f"{proxy}/v1/chat/completions", json=openai_body(), headers={"authorization": f"Bearer {SECRET}"})
                assert app.state.proxy.writer.flush(30)
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


def test_full_queue_sheds_load_by_forwarding_originals_at_once(worker):
    upstream = upstream_app()
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=10, max_queue=0), worker=worker)
        with serve(app) as proxy:
            raw = json.dumps(openai_body()).encode()
            r = httpx.post(f"{proxy}/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
            assert r.status_code == 200 and upstream.state.received[-1]["body"] == raw
            stats = httpx.get(f"{proxy}/stats").json()
            assert stats["shed"] == 1 and stats["failures"] == 0 and stats["tool_outputs_compressed"] == 0


def test_each_output_is_compressed_once_and_sent_in_the_same_bytes_every_turn(stack):
    """A session: every request re-sends the history plus one new output; the upstream sees a growing prefix."""
    proxy, upstream, app, _ = stack
    outputs = [TOOL_OUTPUT + f"\nturn {i}" for i in range(5)]
    bodies = []
    messages = [{"role": "user", "content": "fix it"}]
    for i, out in enumerate(outputs):
        messages = messages + [
            {"role": "assistant", "content": None, "tool_calls": [{"id": f"c{i}", "type": "function", "function": {"name": "bash", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": f"c{i}", "content": out}]
        raw = json.dumps({"model": "gpt", "messages": messages}, separators=(",", ":")).encode()
        assert httpx.post(f"{proxy}/v1/chat/completions", content=raw, headers={"content-type": "application/json"}).status_code == 200
        bodies.append(upstream.state.received[-1]["body"])
    for before, after in zip(bodies, bodies[1:]):
        assert after.startswith(before[: before.rindex(b"]")])  # byte-identical history
    stats = httpx.get(f"{proxy}/stats").json()
    assert stats["new_outputs"] == 5 and stats["reused"] == 10  # 1+2+3+4+5 outputs sent, 5 compressed
    assert stats["forms"]["entries"] == 5


def test_only_tool_strings_change_and_every_other_byte_is_the_clients(stack):
    proxy, upstream, _, _ = stack
    body = anthropic_body()
    body["system"] = [{"type": "text", "text": "You are terse. ünï", "cache_control": {"type": "ephemeral"}}]
    body["tools"] = [{"name": "bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {}}}]
    body["messages"][0]["content"] = [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                                      {"type": "text", "text": "what happened?", "cache_control": {"type": "ephemeral"}}]
    raw = json.dumps(body, indent=1, ensure_ascii=True).encode()  # unusual but valid formatting
    httpx.post(f"{proxy}/v1/messages", content=raw, headers={"content-type": "application/json"})
    sent = upstream.state.received[-1]["body"]
    got = json.loads(sent)
    first, second = got["messages"][2]["content"]
    expected = raw.decode()
    original = json.dumps(TOOL_OUTPUT, ensure_ascii=True)
    expected = expected.replace(original, json.dumps(first["content"], ensure_ascii=False), 1)
    expected = expected.replace(original, json.dumps(second["content"][0]["text"], ensure_ascii=False), 1)
    assert first["content"] != TOOL_OUTPUT and sent == expected.encode()


def test_an_output_first_sent_original_stays_original(stack):
    proxy, upstream, app, _ = stack
    raw = json.dumps(openai_body()).encode()
    r = httpx.post(f"{proxy}/v1/chat/completions", content=raw, headers={"content-type": "application/json", "x-whorf-bypass": "1"})
    assert r.status_code == 200 and upstream.state.received[-1]["body"] == raw
    httpx.post(f"{proxy}/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
    assert upstream.state.received[-1]["body"] == raw  # the bypassed output keeps its original form


def test_a_shed_output_stays_original_in_its_conversation_only(worker):
    """Overload decides for the conversation that received the original, not for every later one."""
    upstream = upstream_app()
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=10, max_queue=0, deadline_ms=60_000), worker=worker)
        with serve(app) as proxy:
            def send(body):
                raw = json.dumps(body).encode()
                r = httpx.post(f"{proxy}/v1/messages", content=raw, headers={"content-type": "application/json"})
                assert r.status_code == 200
                return raw, upstream.state.received[-1]["body"]

            first = anthropic_body()
            raw, sent = send(first)
            assert sent == raw  # shed: the original went upstream
            app.state.proxy.config.max_queue = 4  # the burst is over
            later = json.loads(raw)
            later["messages"].append({"role": "assistant", "content": [{"type": "text", "text": "Looking."}]})
            raw2, sent2 = send(later)
            assert sent2 == raw2  # the same conversation: its history stays byte-stable
            other = anthropic_body()
            for message in other["messages"]:  # another conversation: its own tool call ids
                for block in message["content"] if isinstance(message["content"], list) else []:
                    for key in ("id", "tool_use_id"):
                        if key in block:
                            block[key] = "toolu_other"
            raw3, sent3 = send(other)
            assert len(sent3) < len(raw3)  # compressed now
            stats = httpx.get(f"{proxy}/stats").json()
            assert stats["shed"] == 1 and stats["tool_outputs_compressed"] >= 1


def test_concurrent_first_sightings_are_compressed_and_logged_once(worker, tmp_path):
    upstream = upstream_app()
    db = f"sqlite:///{tmp_path / 'pairs.sqlite'}"
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=10, max_queue=1000, deadline_ms=60_000, log_pairs=True,
                                     db_url=db), worker=worker)
        with serve(app) as proxy:
            raw = json.dumps(openai_body()).encode()

            async def burst():
                async with httpx.AsyncClient(timeout=120) as client:
                    return await asyncio.gather(*[client.post(f"{proxy}/v1/chat/completions", content=raw,
                                                              headers={"content-type": "application/json"})
                                                  for _ in range(12)])

            responses = asyncio.run(burst())
            assert all(r.status_code == 200 for r in responses)
            bodies = {r["body"] for r in upstream.state.received[-12:]}
            assert len(bodies) == 1 and len(next(iter(bodies))) < len(raw)  # one form for all
            deadline = time.time() + 30
            while app.state.proxy.pairs.count() < 1 and time.time() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
            assert app.state.proxy.pairs.count() == 1


def test_the_proxys_own_errors_come_in_the_apis_envelope(worker):
    import anthropic
    import openai

    from servers import free_port

    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app = create_app(ProxyConfig(upstream=closed, min_chars=10), worker=worker)
    with serve(app) as proxy:
        r = httpx.post(f"{proxy}/v1/messages", json=anthropic_body())
        assert r.status_code == 502 and r.json()["type"] == "error" and r.json()["error"]["type"] == "api_error"
        r = httpx.post(f"{proxy}/v1/chat/completions", json=openai_body())
        assert r.status_code == 502 and "upstream unreachable" in r.json()["error"]["message"]
        client = anthropic.Anthropic(base_url=proxy, api_key="x", max_retries=0)
        with pytest.raises(anthropic.APIStatusError) as caught:
            client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
        assert caught.value.status_code == 502 and "upstream unreachable" in caught.value.message
        oai = openai.OpenAI(base_url=f"{proxy}/v1", api_key="x", max_retries=0)
        with pytest.raises(openai.APIStatusError) as caught:
            oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert caught.value.status_code == 502 and "upstream unreachable" in caught.value.message


def test_an_output_over_the_size_limit_is_never_sent_to_the_worker(worker):
    upstream = upstream_app()
    with serve(upstream) as up:
        config = ProxyConfig(upstream=up, min_chars=10, deadline_ms=60_000)
        config.options.max_chars = 5_000
        app = create_app(config, worker=worker)
        with serve(app) as proxy:
            big = "x" * 6_000 + "\n" + TOOL_OUTPUT
            raw = json.dumps(anthropic_body(text=big)).encode()
            r = httpx.post(f"{proxy}/v1/messages", content=raw, headers={"content-type": "application/json"})
            assert r.status_code == 200 and upstream.state.received[-1]["body"] == raw
            stats = httpx.get(f"{proxy}/stats").json()
            assert stats["new_outputs"] == 0 or stats["tool_outputs_compressed"] == 0
            assert app.state.proxy.bodies.forms.get(app.state.proxy.bodies.key(big)).reason == "passthrough"


def test_a_hanging_upstream_gets_a_504_in_the_apis_envelope_after_the_timeout(worker):
    from fastapi import FastAPI

    slow = FastAPI()

    @slow.post("/v1/messages")
    async def hang():
        await asyncio.sleep(5)
        return {}

    with serve(slow) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=10, upstream_timeout=0.5), worker=worker)
        with serve(app) as proxy:
            started = time.perf_counter()
            r = httpx.post(f"{proxy}/v1/messages", json=anthropic_body(), timeout=30)
            assert r.status_code == 504 and r.json()["error"]["type"] == "timeout_error"
            assert time.perf_counter() - started < 4


def responses_body(output, previous=None):
    body = {"model": "gpt-x", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Why did the job fail?"}]},
        {"type": "function_call", "call_id": "call_1", "name": "exec_command", "arguments": "{\"cmd\": \"cat job.log\"}"},
        {"type": "function_call_output", "call_id": "call_1", "output": output}]}
    if previous:
        body["previous_response_id"] = previous
    return body


def test_the_responses_api_has_its_tool_outputs_compressed_once_and_byte_stable(worker):
    import openai

    upstream = upstream_app()
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=100, deadline_ms=60_000), worker=worker)
        with serve(app) as proxy:
            client = openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-test", max_retries=0)
            parts = [{"type": "input_text", "text": TOOL_OUTPUT}]
            for output in (TOOL_OUTPUT, parts):
                first = client.responses.create(**responses_body(output))
                assert first.output_text == "ok"
                sent = json.loads(upstream.state.received[-1]["body"])
                item = sent["input"][2]["output"]
                text = item if isinstance(item, str) else item[0]["text"]
                assert len(text) < len(TOOL_OUTPUT) and all(m in text for m in MUST)
                assert sent["input"][:2] == responses_body(output)["input"][:2]  # everything else as sent
            later = responses_body(TOOL_OUTPUT)
            later["input"].append({"role": "user", "content": [{"type": "input_text", "text": "And now?"}]})
            client.responses.create(**later)
            again = json.loads(upstream.state.received[-1]["body"])
            assert again["input"][:3] == json.loads(upstream.state.received[-3]["body"])["input"]  # byte-stable form
            held = client.responses.create(model="gpt-x", previous_response_id="resp_1", input="go on")
            assert held.output_text == "ok" and json.loads(upstream.state.received[-1]["body"])["input"] == "go on"
            stats = httpx.get(f"{proxy}/stats").json()
            assert stats["tool_outputs_compressed"] >= 2 and stats["failures"] == 0


def test_the_responses_api_streamed_through_the_sdk(worker):
    import openai

    from servers import responses_agent_upstream

    upstream = responses_agent_upstream([], answer="streamed ok")
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=100, deadline_ms=60_000), worker=worker)
        with serve(app) as proxy:
            client = openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-test", max_retries=0)
            with client.responses.stream(**responses_body(TOOL_OUTPUT)) as stream:
                final = stream.get_final_response()
            assert final.output_text == "streamed ok"
            sent = json.loads(upstream.state.received[-1])
            assert len(sent["input"][2]["output"]) < len(TOOL_OUTPUT)
            with client.responses.stream(model="gpt-x", previous_response_id="resp_1", input="go on") as stream:
                assert stream.get_final_response().output_text == "streamed ok"
            assert json.loads(upstream.state.received[-1])["input"] == "go on"

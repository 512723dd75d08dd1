"""Hostile findings from a review of the proxy, each against the real proxy on loopback (real servers, real worker)."""

import json
import logging
import sqlite3
import threading
import time

import httpx
import pytest

from whorf.proxy.app import ProxyConfig, create_app
from whorf.proxy.worker import CompressionWorker, factory_for

from conftest import FIXTURES, TOOL_OUTPUT
from servers import GilHog, serve, upstream_app

SECRET = "sk-ant-test-SECRET-123"


@pytest.fixture()
def upstream():
    app = upstream_app()
    with serve(app) as url:
        yield app, url


def proxy_for(config, worker):
    return serve(create_app(config, worker=worker))


def openai_body(text=TOOL_OUTPUT):
    return {"model": "gpt", "messages": [
        {"role": "user", "content": "why did it fail?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": text}]}


def test_absolute_urls_in_the_path_are_refused_and_never_reach_another_host(worker, upstream):
    up_app, up = upstream
    evil = upstream_app()
    with serve(evil) as evil_url, proxy_for(ProxyConfig(upstream=up), worker) as proxy:
        headers = {"x-api-key": SECRET, "authorization": f"Bearer {SECRET}"}
        for path in (f"/{evil_url}/v1/messages", "//" + evil_url.split("//")[1] + "/v1/messages"):
            with httpx.Client() as client:
                request = client.build_request("POST", proxy + "/x", json={"a": 1}, headers=headers)
                request.url = request.url.copy_with(raw_path=path.encode())
                r = client.send(request)
            assert r.status_code == 400
        assert evil.state.received == [] and up_app.state.received == []
        assert httpx.get(f"{proxy}/stats").json()["refused_paths"] == 2
        r = httpx.post(f"{proxy}/v1/anything?x=1", json={"a": 1}, headers=headers)  # relative paths still work
        assert r.status_code == 200 and up_app.state.received[-1]["path"] == "/v1/anything"


WEIRD_BODIES = [
    b'{"model": "m", "messages": 5}',
    b'{"model": "m", "messages": [{"role": "assistant", "tool_calls": 7}, {"role": "tool", "tool_call_id": "c", "content": "short"}]}',
    b'{"model": "m", "messages": [{"role": "tool", "tool_call_id": ["a", "b"], "content": [5, {"type": "text", "text": 7}]}]}',
    b'{"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": ["x"], "content": {"a": 1}}]}]}',
    b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b"[1, 2, 3]",
    b"not json at all \xff\xfe",
    b'{"messages": [{"role": "tool", "content": "\\ud800 lone surrogate ' + b"word " * 100 + b'"}]}',
    b'{"model": "m", "input": 5}',
    b'{"model": "m", "input": [{"type": "function_call_output", "call_id": 7, "output": {"a": 1}}, "x", null]}',
    b'{"model": "m", "input": [{"type": "function_call_output", "call_id": "c", "output": [5, {"type": "input_text", "text": 3}]}]}',
]


@pytest.mark.parametrize("api", ["/v1/chat/completions", "/v1/messages", "/v1/responses"])
def test_unexpected_shapes_are_forwarded_byte_for_byte(worker, upstream, api):
    up_app, up = upstream
    with proxy_for(ProxyConfig(upstream=up, min_chars=10), worker) as proxy:
        for raw in WEIRD_BODIES:
            r = httpx.post(proxy + api, content=raw, headers={"content-type": "application/json"}, timeout=30)
            assert r.status_code == 200, raw[:60]
            assert up_app.state.received[-1]["body"] == raw


def test_a_long_unbroken_run_never_freezes_the_proxy(worker, upstream):
    up_app, up = upstream
    with proxy_for(ProxyConfig(upstream=up, deadline_ms=2000), worker) as proxy:
        body = openai_body("a" * 48_000)
        done = {}
        thread = threading.Thread(target=lambda: done.update(r=httpx.post(f"{proxy}/v1/chat/completions", json=body, timeout=60)))
        started = time.perf_counter()
        thread.start()
        time.sleep(0.2)
        t = time.perf_counter()
        assert httpx.get(f"{proxy}/stats", timeout=5).status_code == 200
        assert time.perf_counter() - t < 1.0  # the proxy stays responsive while it compresses
        thread.join(30)
        assert done["r"].status_code == 200 and time.perf_counter() - started < 5.0


def test_the_deadline_holds_even_when_compression_holds_the_gil(tiny_compressor, upstream):
    up_app, up = upstream
    hog = CompressionWorker(factory_for(GilHog(tiny_compressor, seconds=8)), kill_after_s=3).start()
    try:
        with proxy_for(ProxyConfig(upstream=up, deadline_ms=500, min_chars=10), hog) as proxy:
            raw = json.dumps(openai_body("HOG " + TOOL_OUTPUT)).encode()
            started = time.perf_counter()
            r = httpx.post(f"{proxy}/v1/chat/completions", content=raw, headers={"content-type": "application/json"}, timeout=60)
            assert r.status_code == 200 and time.perf_counter() - started < 2.5
            assert up_app.state.received[-1]["body"] == raw  # the original went upstream
            t = time.perf_counter()
            stats = httpx.get(f"{proxy}/stats", timeout=5).json()
            assert time.perf_counter() - t < 1.0 and stats["deadline_missed"] == 1
            again = httpx.post(f"{proxy}/v1/chat/completions", content=raw, headers={"content-type": "application/json"}, timeout=60)
            assert again.status_code == 200 and up_app.state.received[-1]["body"] == raw  # same form as before
            deadline = time.time() + 120  # the stuck child is killed after 3 s and a fresh one started
            while time.time() < deadline and not (hog.restarts == 1 and hog.ready.is_set()):
                time.sleep(0.2)
            assert hog.restarts == 1 and hog.ready.is_set()
            for attempt in range(5):  # compressing again after the restart (a loaded machine may miss 500 ms once)
                fresh = f"{TOOL_OUTPUT} fresh {attempt}"
                httpx.post(f"{proxy}/v1/chat/completions", json=openai_body(fresh), timeout=60)
                sent = json.loads(up_app.state.received[-1]["body"])["messages"][2]["content"]
                if sent != fresh:
                    break
            assert sent != fresh
    finally:
        hog.stop()


def hold_lock(path, release, ready):
    db = sqlite3.connect(path, timeout=30)
    db.execute("BEGIN EXCLUSIVE")
    ready.set()
    release.wait(120)
    db.rollback()
    db.close()


@pytest.mark.parametrize("retry_s, lost", [(120.0, 0), (0.2, 6)])
def test_pair_rows_wait_for_a_locked_database_or_are_counted(worker, upstream, tmp_path, caplog, capfd, retry_s, lost):
    up_app, up = upstream
    path = tmp_path / "pairs.sqlite"
    config = ProxyConfig(upstream=up, log_pairs=True, db_url=f"sqlite:///{path}", min_chars=10, pair_retry_s=retry_s)
    app = create_app(config, worker=worker)
    with serve(app) as proxy, caplog.at_level(logging.DEBUG):
        ready, release = threading.Event(), threading.Event()
        locker = threading.Thread(target=hold_lock, args=(path, release, ready))
        locker.start()
        ready.wait(10)
        for i in range(6):
            r = httpx.post(f"{proxy}/v1/chat/completions", json=openai_body(f"{TOOL_OUTPUT}\nrun {i} UNIQUE-TOOL-TEXT"), timeout=60)
            assert r.status_code == 200
        if lost:  # a short retry budget: every row gives up while the lock is still held
            assert app.state.proxy.writer.flush(60)
        else:  # a long one: the rows wait out a lock held for seconds
            time.sleep(3)
        release.set()
        locker.join()
        assert app.state.proxy.writer.flush(60)
        stats = httpx.get(f"{proxy}/stats").json()
    assert stats["pairs_lost"] == lost and stats["pairs_written"] == 6 - lost
    assert app.state.proxy.pairs.count() == 6 - lost
    logged = caplog.text + "".join(capfd.readouterr())
    assert "UNIQUE-TOOL-TEXT" not in logged and "SIGILL" not in logged


def test_recent_outputs_and_dashboard_answer_loopback_hosts_or_a_token(worker, upstream):
    _, up = upstream
    with proxy_for(ProxyConfig(upstream=up, dashboard_token="t0ken"), worker) as proxy:
        for page in ("/api/recent", "/dashboard"):
            assert httpx.get(proxy + page).status_code == 200
            assert httpx.get(proxy + page, headers={"host": "localhost:1"}).status_code == 200
            assert httpx.get(proxy + page, headers={"host": "evil.example"}).status_code == 403
            assert httpx.get(proxy + page, headers={"host": "127.0.0.1.evil.example"}).status_code == 403
            assert httpx.get(proxy + page + "?token=wrong", headers={"host": "evil.example"}).status_code == 403
            assert httpx.get(proxy + page + "?token=t0ken", headers={"host": "evil.example"}).status_code == 200
            assert httpx.get(proxy + page, headers={"host": "evil.example", "authorization": "Bearer t0ken"}).status_code == 200


def test_stats_never_show_upstream_credentials(worker, upstream):
    _, up = upstream
    with_creds = up.replace("http://", "http://user:hunter2@") + "/?key=topsecret"
    with proxy_for(ProxyConfig(upstream=with_creds), worker) as proxy:
        shown = httpx.get(f"{proxy}/stats").json()["upstream"]
    assert "hunter2" not in shown and "topsecret" not in shown and "user" not in shown
    assert shown.startswith("http://127.0.0.1:")


def test_repeated_response_headers_are_preserved(worker, upstream):
    _, up = upstream
    with proxy_for(ProxyConfig(upstream=up), worker) as proxy:
        r = httpx.get(f"{proxy}/v1/cookies")
    assert r.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]

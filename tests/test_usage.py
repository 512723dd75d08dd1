"""Usage net of the prompt cache: the upstream's figures read from real answer shapes, priced per session."""

from __future__ import annotations

import json

from whorf.proxy.usage import Ledger, Prices, Usage, UsageTap, parse_usage, session_key


def test_usage_is_read_from_each_apis_answer_shape():
    anthropic = {"usage": {"input_tokens": 12, "cache_read_input_tokens": 900, "cache_creation_input_tokens": 40,
                           "output_tokens": 7}}
    assert parse_usage(anthropic) == Usage(12, 900, 40, 7)
    chat = {"usage": {"prompt_tokens": 1000, "completion_tokens": 9, "prompt_tokens_details": {"cached_tokens": 800}}}
    assert parse_usage(chat) == Usage(200, 800, 0, 9)
    responses = {"type": "response.completed", "response": {"usage": {
        "input_tokens": 500, "input_tokens_details": {"cached_tokens": 300}, "output_tokens": 4}}}
    assert parse_usage(responses) == Usage(200, 300, 0, 4)
    assert parse_usage({"type": "ping"}) is None and parse_usage([1]) is None
    assert parse_usage({"usage": {"input_tokens": "x", "output_tokens": True}}) == Usage()


def test_a_stream_split_anywhere_gives_the_same_usage():
    events = [{"type": "message_start", "message": {"usage": {"input_tokens": 3, "cache_read_input_tokens": 50,
                                                              "output_tokens": 1}}},
              {"type": "content_block_delta", "delta": {"text": "usage is not a key here"}},
              {"type": "message_delta", "usage": {"output_tokens": 21}}]
    raw = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()
    for size in (1, 7, 64, len(raw)):
        tap = UsageTap(streamed=True)
        for i in range(0, len(raw), size):
            tap.feed(raw[i:i + size])
        assert tap.close() == Usage(3, 50, 0, 21), size
    tap = UsageTap(streamed=False)
    tap.feed(json.dumps({"usage": {"input_tokens": 5, "output_tokens": 2}}).encode())
    assert tap.close() == Usage(5, 0, 0, 2)


def test_a_session_whose_cache_misses_cost_more_than_compression_saved_is_flagged():
    prices = Prices(input=3.0, cache_read=0.3, cache_write=3.75, output=15.0)
    ledger = Ledger(prices)
    ledger.record("a", Usage(100, 0, 5000, 10), saved_new=400, saved_reused=0)
    ledger.record("a", Usage(100, 5000, 200, 10), saved_new=0, saved_reused=400)  # the cache held
    ledger.record("b", Usage(100, 0, 5000, 10), saved_new=50, saved_reused=0)
    ledger.record("b", Usage(5100, 0, 0, 10), saved_new=0, saved_reused=50)  # the prefix was not read: a miss
    snap = ledger.snapshot()
    a, b = snap["sessions"]["a"], snap["sessions"]["b"]
    assert a["cache_misses"] == 0 and not a["costs_more_than_it_saves"] and a["saved"] > 0
    assert a["cost_uncompressed_estimate"] > a["cost"]
    assert b["cache_misses"] == 1 and b["costs_more_than_it_saves"]
    # by hand, session a: 200 input x $3 + 5000 read x $0.30 + 5200 written x $3.75 + 20 output x $15, per million
    assert a["cost"] == round((200 * 3.0 + 5000 * 0.3 + 5200 * 3.75 + 20 * 15.0) / 1e6, 6)
    assert a["saved"] == round((400 * 3.75 + 400 * 0.3) / 1e6, 6)  # new outputs as cache writes, reused as reads
    assert b["cache_miss_cost"] == round(5000 * (3.0 - 0.3) / 1e6, 6)  # the 5,000 cached tokens read again
    assert snap["total"]["requests"] == 4 and snap["total"]["costs_more_than_it_saves"] is True
    ledger.record("d", Usage(0, 0, 5000, 10), saved_new=0, saved_reused=0)
    ledger.record("d", Usage(0, 4990, 300, 10), saved_new=0, saved_reused=0)  # the prompt's closing bytes changed
    assert ledger.snapshot()["sessions"]["d"]["cache_misses"] == 0
    ledger.record("c", Usage(900, 0, 0, 10), saved_new=100, saved_reused=0)  # an upstream without a prompt cache
    ledger.record("c", Usage(1000, 0, 0, 10), saved_new=0, saved_reused=100)
    assert ledger.snapshot()["sessions"]["c"]["saved"] == round(200 * 3.0 / 1e6, 6)  # everything at the input price


def test_a_conversation_keeps_its_session_key_as_it_grows():
    first = {"messages": [{"role": "user", "content": "fix the tests"}]}
    later = {"messages": [{"role": "user", "content": "fix the tests"}, {"role": "assistant", "content": "ok"}]}
    assert session_key(first) == session_key(later) != session_key({"messages": [{"role": "user", "content": "x"}]})
    assert session_key({"prompt_cache_key": "abc", "input": []}) == "abc"


def test_whorf_stats_reads_a_running_proxy(worker):
    import os
    import subprocess
    import sys

    import httpx

    from conftest import TOOL_OUTPUT
    from servers import anthropic_agent_upstream, serve
    from whorf.proxy.app import ProxyConfig, create_app

    upstream = anthropic_agent_upstream([])
    with serve(upstream) as up:
        with serve(create_app(ProxyConfig(upstream=up, min_chars=10, deadline_ms=60_000), worker=worker)) as proxy:
            body = {"model": "m", "max_tokens": 5, "stream": True, "messages": [
                {"role": "user", "content": "why?"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": TOOL_OUTPUT}]}]}
            with httpx.stream("POST", f"{proxy}/v1/messages", json=body, timeout=60) as r:
                r.read()
            out = subprocess.run([sys.executable, "-m", "whorf", "stats", "--url", proxy], capture_output=True,
                                 text=True, timeout=60, env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert "saved net of the prompt cache: $" in out.stdout
    assert "tool outputs compressed 1/1" in out.stdout and "upstream usage: input 10" in out.stdout
    gone = subprocess.run([sys.executable, "-m", "whorf", "stats", "--url", "http://127.0.0.1:9"], capture_output=True,
                          text=True, timeout=60)
    assert gone.returncode == 2 and "no whorf proxy answered" in gone.stderr

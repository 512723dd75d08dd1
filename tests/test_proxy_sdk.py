"""The official ``anthropic`` and ``openai`` SDKs talk to a fake model through the real proxy.

The fake model (tests/servers.py) answers in the real wire formats, streamed or not, and uses the
``whorf_retrieve`` tool when the proxy offers it, so the retrieval round trip runs end to end, in all three
APIs (Anthropic Messages, OpenAI chat completions, OpenAI Responses).
"""

import json

import anthropic
import httpx
import openai
import pytest

from whorf.proxy.app import ProxyConfig, create_app

from conftest import FIXTURES
from conftest import TOOL_OUTPUT as WORKER_OUTPUT
from servers import model_app, serve

TOOL_OUTPUT = WORKER_OUTPUT * 3


@pytest.fixture(params=[False, True], ids=["plain", "retrieve"])
def stack(request, worker, tmp_path):
    upstream = model_app()
    with serve(upstream) as up:
        config = ProxyConfig(upstream=up, min_chars=100, retrieve=request.param, db_url=f"sqlite:///{tmp_path / 'p.sqlite'}")
        app = create_app(config, worker=worker)
        with serve(app) as proxy:
            yield proxy, upstream, request.param


def anthropic_messages(text=TOOL_OUTPUT):
    return [{"role": "user", "content": "Why did the job fail?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {"cmd": "run"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": text}]}]


def openai_messages(text=TOOL_OUTPUT):
    return [{"role": "user", "content": "Why did the job fail?"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": text}]


def expected_answer(retrieve):
    return f"retrieved {len(TOOL_OUTPUT)} chars: {TOOL_OUTPUT[:40]}" if retrieve else "ok"


def sent_tool_text(upstream, api):
    first = json.loads(upstream.state.received[0]["body"])
    if api == "anthropic":
        return first["messages"][2]["content"][0]["content"], first
    return first["messages"][2]["content"], first


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_anthropic_sdk(stack, stream):
    proxy, upstream, retrieve = stack
    client = anthropic.Anthropic(api_key="sk-ant-test", base_url=proxy, max_retries=0)
    tools = [{"name": "bash", "description": "run", "input_schema": {"type": "object", "properties": {}}}]
    if stream:
        with client.messages.stream(model="claude-x", max_tokens=100, messages=anthropic_messages(), tools=tools) as s:
            message = s.get_final_message()
    else:
        message = client.messages.create(model="claude-x", max_tokens=100, messages=anthropic_messages(), tools=tools)
    assert [b.type for b in message.content] == ["text"] and message.content[0].text == expected_answer(retrieve)
    compressed, first = sent_tool_text(upstream, "anthropic")
    assert len(compressed) < len(TOOL_OUTPUT) and first["tools"][0]["name"] == "bash"
    assert [t["name"] for t in first["tools"]] == (["bash", "whorf_retrieve"] if retrieve else ["bash"])
    stats = httpx.get(f"{proxy}/stats").json()
    assert stats["retrievals"] == (1 if retrieve else 0) and stats["tool_outputs_compressed"] == 1
    if retrieve:  # the continuation carried the original, and the history before it unchanged
        last = json.loads(upstream.state.received[-1]["body"])
        assert last["messages"][:3] == first["messages"] and last["messages"][-1]["content"][0]["content"] == TOOL_OUTPUT
        from whorf.store import Store, retrieve as from_store

        handle = compressed.rsplit("whorf_retrieve ", 1)[1].rstrip("]")
        assert from_store(handle, Store()) == TOOL_OUTPUT  # `whorf retrieve` finds what the model was shown


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_openai_sdk(stack, stream):
    proxy, upstream, retrieve = stack
    client = openai.OpenAI(api_key="sk-test", base_url=f"{proxy}/v1", max_retries=0)
    if stream:
        chunks = list(client.chat.completions.create(model="gpt-x", messages=openai_messages(), stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert not any(c.choices and c.choices[0].delta.tool_calls for c in chunks)
    else:
        reply = client.chat.completions.create(model="gpt-x", messages=openai_messages())
        text = reply.choices[0].message.content
        assert not reply.choices[0].message.tool_calls
    assert text == expected_answer(retrieve)
    compressed, first = sent_tool_text(upstream, "openai")
    assert len(compressed) < len(TOOL_OUTPUT)
    assert [t["function"]["name"] for t in first.get("tools", [])] == (["whorf_retrieve"] if retrieve else [])
    assert httpx.get(f"{proxy}/stats").json()["retrievals"] == (1 if retrieve else 0)


def responses_input(text=TOOL_OUTPUT):
    return [{"role": "user", "content": "Why did the job fail?"},
            {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": text}]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_openai_responses_sdk(stack, stream):
    proxy, upstream, retrieve = stack
    client = openai.OpenAI(api_key="sk-test", base_url=f"{proxy}/v1", max_retries=0)
    tools = [{"type": "function", "name": "shell", "parameters": {"type": "object", "properties": {}}}]
    if stream:
        with client.responses.stream(model="gpt-x", input=responses_input(), tools=tools) as events:
            text = events.get_final_response().output_text
    else:
        text = client.responses.create(model="gpt-x", input=responses_input(), tools=tools).output_text
    assert text == expected_answer(retrieve)
    first = json.loads(upstream.state.received[0]["body"])
    assert len(first["input"][2]["output"]) < len(TOOL_OUTPUT)
    assert [t["name"] for t in first["tools"]] == (["shell", "whorf_retrieve"] if retrieve else ["shell"])
    assert httpx.get(f"{proxy}/stats").json()["retrievals"] == (1 if retrieve else 0)
    if retrieve:  # the continuation: the model's call and its answer appended, the history before them as sent
        second = json.loads(upstream.state.received[1]["body"])
        assert second["input"][:3] == first["input"]
        assert second["input"][3]["type"] == "function_call" and second["input"][3]["name"] == "whorf_retrieve"
        assert second["input"][4] == {"type": "function_call_output", "call_id": "call_whorf_1", "output": TOOL_OUTPUT}
    before = len(upstream.state.received)
    held = client.responses.create(model="gpt-x", previous_response_id="resp_1", input=responses_input()[2:])
    assert held.output_text == expected_answer(retrieve)  # history held upstream: the next round continues it
    if retrieve:
        last = json.loads(upstream.state.received[-1]["body"])
        assert len(upstream.state.received) == before + 2 and last["previous_response_id"] == "resp_fake"
        assert last["input"] == [{"type": "function_call_output", "call_id": "call_whorf_1", "output": TOOL_OUTPUT}]

"""Real HTTP servers for the tests: a recording LLM upstream, and any ASGI app on a free loopback port."""

from __future__ import annotations

import asyncio
import re
import json
import socket
import threading
import time
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app, port: int | None = None):
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def loads(raw: bytes) -> dict:
    """The request body as a dict, or {} for anything else (hostile tests send odd bodies)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


SSE_EVENTS = 5
SSE_DELAY = 0.25


def upstream_app():
    """Answers Anthropic and OpenAI requests, streaming included, and records every request it gets."""
    app = FastAPI()
    app.state.received = []

    def answer(kind: str, body: dict):
        if body.get("stream"):
            async def events():
                for i in range(SSE_EVENTS):
                    yield f"event: delta\ndata: {json.dumps({'kind': kind, 'i': i})}\n\n".encode()
                    await asyncio.sleep(SSE_DELAY)
            return StreamingResponse(events(), media_type="text/event-stream", headers={"x-upstream": "sse"})
        if kind == "anthropic":
            payload = {"id": "msg_1", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "ok ünïcode"}]}
        else:
            payload = {"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}
        return JSONResponse(payload, headers={"x-upstream": "json"})

    @app.post("/v1/messages")
    async def messages(request: Request):
        raw = await request.body()
        app.state.received.append({"path": "/v1/messages", "body": raw, "headers": dict(request.headers)})
        return answer("anthropic", loads(raw))

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        raw = await request.body()
        app.state.received.append({"path": "/v1/chat/completions", "body": raw, "headers": dict(request.headers)})
        return answer("openai", loads(raw))

    @app.post("/v1/responses")
    async def responses(request: Request):
        raw = await request.body()
        app.state.received.append({"path": "/v1/responses", "body": raw, "headers": dict(request.headers)})
        body = loads(raw)
        if body.get("stream"):
            return answer("responses", body)
        return JSONResponse({"id": "resp_1", "object": "response", "created_at": 0, "status": "completed",
                             "model": body.get("model", "m"), "output": [
                                 {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                                  "content": [{"type": "output_text", "text": "ok", "annotations": []}]}],
                             "parallel_tool_calls": True, "tool_choice": "auto", "tools": []},
                            headers={"x-upstream": "json"})

    @app.post("/v1/fail")
    async def fail_first(request: Request):
        await request.body()
        return JSONResponse({"error": {"type": "rate_limit_error", "message": "slow down"}}, status_code=429, headers={"retry-after": "7"})

    @app.get("/v1/models")
    async def models(request: Request):
        app.state.received.append({"path": "/v1/models", "body": b"", "headers": dict(request.headers)})
        return JSONResponse({"data": [{"id": "m"}]})

    @app.get("/v1/cookies")
    async def cookies(request: Request):
        response = JSONResponse({"ok": True})
        response.raw_headers.append((b"set-cookie", b"a=1; Path=/"))
        response.raw_headers.append((b"set-cookie", b"b=2; Path=/"))
        return response

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def anything(request: Request, path: str):
        app.state.received.append({"path": "/" + path, "body": await request.body(), "headers": dict(request.headers)})
        return JSONResponse({"path": path})

    return app




# --- a fake model in the real wire formats (the official SDKs parse its answers) ---------------------

HANDLE = re.compile(r"whorf:[0-9a-f]{8,}")


def _sse(event: str | None, data) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


def _anthropic_turn(body: dict) -> tuple[str, dict | None]:
    """(text, tool call or None) the fake model answers with."""
    tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    last = (body.get("messages") or [{}])[-1]
    blocks = last.get("content") if isinstance(last.get("content"), list) else []
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "tool_result" and str(block.get("tool_use_id")).startswith("toolu_whorf"):
            content = block.get("content")
            text = content if isinstance(content, str) else "".join(b.get("text", "") for b in content or [])
            return f"retrieved {len(text)} chars: {text[:40]}", None
    if "whorf_retrieve" in tools:
        for block in blocks:
            content = block.get("content") if isinstance(block, dict) else None
            text = content if isinstance(content, str) else json.dumps(content)
            found = HANDLE.findall(text or "")
            if block.get("type") == "tool_result" and found:  # the last handle names the whole output
                return "Let me see the full output.", {"id": "toolu_whorf_1", "name": "whorf_retrieve", "input": {"handle": found[-1]}}
    return "ok", None


def _openai_turn(body: dict) -> tuple[str, dict | None]:
    tools = [(t.get("function") or {}).get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    messages = body.get("messages") or [{}]
    last = messages[-1]
    if last.get("role") == "tool" and str(last.get("tool_call_id")).startswith("call_whorf"):
        text = last.get("content") if isinstance(last.get("content"), str) else json.dumps(last.get("content"))
        return f"retrieved {len(text)} chars: {text[:40]}", None
    if "whorf_retrieve" in tools and last.get("role") == "tool":
        found = HANDLE.findall(last.get("content") if isinstance(last.get("content"), str) else json.dumps(last.get("content")))
        if found:
            return "", {"id": "call_whorf_1", "name": "whorf_retrieve", "arguments": json.dumps({"handle": found[-1]})}
    return "ok", None


def anthropic_answer(body: dict):
    text, call = _anthropic_turn(body)
    content = [{"type": "text", "text": text}] + ([{"type": "tool_use", **call}] if call else [])
    stop = "tool_use" if call else "end_turn"
    message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model", "claude"),
               "content": content, "stop_reason": stop, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5}}
    if not body.get("stream"):
        return JSONResponse(message)

    async def events():
        start = dict(message, content=[], stop_reason=None)
        yield _sse("message_start", {"type": "message_start", "message": start})
        for i, block in enumerate(content):
            if block["type"] == "text":
                yield _sse("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})
                for piece in (block["text"][:5], block["text"][5:]):
                    yield _sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": piece}})
            else:
                head = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                yield _sse("content_block_start", {"type": "content_block_start", "index": i, "content_block": head})
                raw = json.dumps(block["input"])
                for piece in (raw[:6], raw[6:]):
                    yield _sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": piece}})
            yield _sse("content_block_stop", {"type": "content_block_stop", "index": i})
        yield _sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 5}})
        yield _sse("message_stop", {"type": "message_stop"})

    return StreamingResponse(events(), media_type="text/event-stream")


def openai_answer(body: dict):
    text, call = _openai_turn(body)
    tool_calls = [{"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}] if call else None
    finish = "tool_calls" if call else "stop"
    base = {"id": "chatcmpl-fake", "created": 0, "model": body.get("model", "gpt")}
    if not body.get("stream"):
        message = {"role": "assistant", "content": text or None, **({"tool_calls": tool_calls} if tool_calls else {})}
        return JSONResponse({**base, "object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                             "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})

    def chunk(delta, reason=None):
        return _sse(None, {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]})

    async def events():
        yield chunk({"role": "assistant", "content": ""})
        if text:
            yield chunk({"content": text[:5]})
            yield chunk({"content": text[5:]})
        if call:
            yield chunk({"tool_calls": [{"index": 0, "id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": ""}}]})
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": call["arguments"]}}]})
        yield chunk({}, finish)
        yield _sse(None, "[DONE]")

    return StreamingResponse(events(), media_type="text/event-stream")


def _responses_turn(body: dict) -> tuple[str, dict | None]:
    tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    items = body.get("input") if isinstance(body.get("input"), list) else []
    last = items[-1] if items and isinstance(items[-1], dict) else {}
    output = last.get("output") if isinstance(last.get("output"), str) else json.dumps(last.get("output"))
    if last.get("type") == "function_call_output" and str(last.get("call_id")).startswith("call_whorf"):
        return f"retrieved {len(output)} chars: {output[:40]}", None
    if "whorf_retrieve" in tools and last.get("type") == "function_call_output":
        found = HANDLE.findall(output or "")
        if found:
            return "", {"type": "function_call", "id": "fc_whorf_1", "call_id": "call_whorf_1", "name": "whorf_retrieve",
                        "arguments": json.dumps({"handle": found[-1]}), "status": "completed"}
    return "ok", None


def responses_answer(body: dict):
    text, call = _responses_turn(body)
    item = call or {"type": "message", "id": "msg_fake", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": text, "annotations": []}]}
    done = {**_response("resp_fake", [item]), "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}
    if not body.get("stream"):
        return JSONResponse(done)
    return _sse_events([{"type": "response.created", "response": {**done, "output": [], "status": "in_progress"}},
                        {"type": "response.output_item.added", "output_index": 0, "item": item},
                        {"type": "response.output_item.done", "output_index": 0, "item": item},
                        {"type": "response.completed", "response": done}])


def model_app():
    """A fake LLM API in the real Anthropic, OpenAI chat and Responses formats that uses ``whorf_retrieve``
    when offered."""
    app = FastAPI()
    app.state.received = []

    @app.post("/v1/messages")
    async def messages(request: Request):
        raw = await request.body()
        app.state.received.append({"path": "/v1/messages", "body": raw, "headers": dict(request.headers)})
        return anthropic_answer(loads(raw))

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        raw = await request.body()
        app.state.received.append({"path": "/v1/chat/completions", "body": raw, "headers": dict(request.headers)})
        return openai_answer(loads(raw))

    @app.post("/v1/responses")
    async def responses(request: Request):
        raw = await request.body()
        app.state.received.append({"path": "/v1/responses", "body": raw, "headers": dict(request.headers)})
        return responses_answer(loads(raw))

    return app


# --- compressors for the deadline tests -------------------------------------------------------------

class GilHog:
    """Wraps a real compressor; first holds the GIL in one C call (a quadratic regex) for ``seconds``.

    This is what a slow must-keep pattern on a long unbroken run does: no other thread of the process
    runs meanwhile, so only a deadline enforced from another process can fire.
    """

    def __init__(self, inner, seconds: float):
        self.inner = inner
        self.model_id = "gil-hog"
        probe = 20_000
        started = time.perf_counter()
        re.search(r"x*y", "x" * probe)
        per = max(time.perf_counter() - started, 1e-4)
        self.size = int(probe * (seconds / per) ** 0.5)

    def compress_batch(self, texts, options=None, **kwargs):
        if any("HOG" in t for t in texts):
            re.search(r"x*y", "x" * self.size)  # one C call, GIL held throughout
        return self.inner.compress_batch(texts, options, **kwargs)


def _sse_events(events: list[dict]) -> StreamingResponse:
    async def gen():
        for e in events:
            yield f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode()
    return StreamingResponse(gen(), media_type="text/event-stream")


def _response(rid: str, output: list) -> dict:
    return {"id": rid, "object": "response", "created_at": 0, "status": "completed", "model": "m", "output": output,
            "usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 5,
                      "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 15}}


def responses_agent_upstream(commands: list[str], answer: str = "FINAL ANSWER: done"):
    """A scripted OpenAI Responses API (streamed, as Codex speaks it): it asks the agent to run each of
    ``commands`` in turn with its ``exec_command`` tool, then answers; it records every request body."""
    app = FastAPI()
    app.state.received = []

    @app.post("/v1/responses")
    async def responses(request: Request):
        raw = await request.body()
        app.state.received.append(raw)
        body = loads(raw)
        done = sum(1 for i in body.get("input", []) if isinstance(i, dict) and i.get("type") == "function_call_output")
        n = len(app.state.received)
        if done < len(commands):
            item = {"type": "function_call", "id": f"fc_{n}", "call_id": f"call_{done}", "name": "exec_command",
                    "arguments": json.dumps({"cmd": commands[done]}), "status": "completed"}
        else:
            item = {"type": "message", "id": f"msg_{n}", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": answer, "annotations": []}]}
        rid = f"resp_{n}"
        return _sse_events([{"type": "response.created", "response": {**_response(rid, []), "status": "in_progress"}},
                     {"type": "response.output_item.added", "output_index": 0, "item": item},
                     {"type": "response.output_item.done", "output_index": 0, "item": item},
                     {"type": "response.completed", "response": _response(rid, [item])}])

    return app


def anthropic_agent_upstream(commands: list[str], answer: str = "FINAL ANSWER: done"):
    """A scripted Anthropic Messages API (streamed, as Claude Code speaks it): it asks the agent to run each
    of ``commands`` with its Bash tool (a command may be a function of the request body), then answers;
    other paths answer {}; it records every request body."""
    app = FastAPI()
    app.state.received = []

    @app.post("/v1/messages")
    async def messages(request: Request):
        raw = await request.body()
        body = loads(raw)
        app.state.received.append(raw)
        done = sum(1 for m in body.get("messages", []) if isinstance(m, dict) and isinstance(m.get("content"), list)
                   for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result")
        n = len(app.state.received)
        start = {"type": "message_start", "message": {"id": f"msg_{n}", "type": "message", "role": "assistant",
                 "model": body.get("model", "m"), "content": [], "stop_reason": None, "stop_sequence": None,
                 "usage": {"input_tokens": 10, "output_tokens": 1}}}
        if done < len(commands) and body.get("tools"):
            block = {"type": "tool_use", "id": f"toolu_{done:02d}", "name": "Bash", "input": {}}
            command = commands[done](body) if callable(commands[done]) else commands[done]  # may read the history
            delta = {"type": "input_json_delta", "partial_json": json.dumps({"command": command, "description": "run"})}
            stop = "tool_use"
        else:
            block, delta, stop = {"type": "text", "text": ""}, {"type": "text_delta", "text": answer}, "end_turn"
        return _sse_events([start, {"type": "content_block_start", "index": 0, "content_block": block},
                     {"type": "content_block_delta", "index": 0, "delta": delta}, {"type": "content_block_stop", "index": 0},
                     {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 5}},
                     {"type": "message_stop"}])

    @app.api_route("/{path:path}", methods=["GET", "POST", "HEAD"])
    async def other(path: str):
        return JSONResponse({})

    return app

"""Real HTTP servers for the tests: a recording LLM upstream, and any ASGI app on a free loopback port."""

from __future__ import annotations

import asyncio
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
        return answer("anthropic", json.loads(raw))

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        raw = await request.body()
        app.state.received.append({"path": "/v1/chat/completions", "body": raw, "headers": dict(request.headers)})
        return answer("openai", json.loads(raw))

    @app.get("/v1/models")
    async def models(request: Request):
        app.state.received.append({"path": "/v1/models", "body": b"", "headers": dict(request.headers)})
        return JSONResponse({"data": [{"id": "m"}]})

    @app.post("/v1/fail")
    async def fail(request: Request):
        await request.body()
        return JSONResponse({"error": {"type": "rate_limit_error", "message": "slow down"}}, status_code=429, headers={"retry-after": "7"})

    return app

"""``whorf proxy``: compress tool outputs between an agent and its LLM API.

Requests to ``POST /v1/messages`` (Anthropic) and ``POST /v1/chat/completions`` (OpenAI) have their
tool outputs compressed; everything else, and every response (streamed SSE included), is forwarded
unchanged. Compression runs off the event loop under a deadline: on failure or timeout the original
request goes upstream and the failure is counted, never a failed or delayed request.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from whorf.config import CompressOptions
from whorf.proxy.pairs import PairLog, now
from whorf.proxy.rewrite import FINDERS
from whorf.proxy.stats import ProxyStats

ROUTES = {("POST", "v1/messages"): "anthropic", ("POST", "v1/chat/completions"): "openai"}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
BYPASS_HEADER = "x-whorf-bypass"


@dataclass
class ProxyConfig:
    upstream: str
    host: str = "127.0.0.1"
    port: int = 8787
    log_pairs: bool = False
    db_url: str | None = None
    min_chars: int = 400
    exclude_tools: tuple[str, ...] = ()
    rate: float | None = None
    threshold: float | None = None
    deadline_ms: float = 2000.0
    max_queue: int = 4  # requests waiting for compression beyond this are forwarded at once (shed)
    upstream_timeout: float = 600.0
    model: str = "whorf-mini"
    runtime: str = "torch"
    options: CompressOptions = field(init=False)

    def __post_init__(self) -> None:
        self.options = CompressOptions(rate=self.rate, threshold=self.threshold)


class Proxy:
    def __init__(self, config: ProxyConfig, compressor):
        self.config = config
        self.compressor = compressor
        self.stats = ProxyStats()
        self.pairs = PairLog(config.db_url) if config.log_pairs else None
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whorf-compress")
        self.client: httpx.AsyncClient | None = None
        self.pending: set[asyncio.Task] = set()
        self.queued = 0

    async def compress_body(self, body: bytes, api: str, request_id: str) -> bytes:
        try:
            data = json.loads(body)
        except ValueError:
            return body
        if not isinstance(data, dict):
            return body
        slots = FINDERS[api](data)
        eligible = [s for s in slots if len(s.text) >= self.config.min_chars and s.tool not in self.config.exclude_tools]
        if not eligible:
            self.stats.record(len(slots), [], 0.0, 0)
            return body
        if self.queued >= self.config.max_queue:  # overloaded: waiting would only delay the original
            self.stats.shed += 1
            self.stats.record(len(slots), [], 0.0, 0)
            return body
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        self.queued += 1
        try:
            results = await asyncio.wait_for(
                loop.run_in_executor(self.pool, self.compressor.compress_batch, [s.text for s in eligible], self.config.options),
                timeout=self.config.deadline_ms / 1000,
            )
        except Exception:  # noqa: BLE001 - timeout or model failure: the original goes upstream
            self.stats.record(len(slots), [], (time.perf_counter() - started) * 1000, len(eligible))
            return body
        finally:
            self.queued -= 1
        ms = (time.perf_counter() - started) * 1000
        done, rows = [], []
        for slot, res in zip(eligible, results):
            if res.stats.passthrough or len(res.text) >= len(slot.text):
                continue
            slot.write(res.text)
            item = {"time": time.time(), "request_id": request_id, "api": api, "tool": slot.tool, "domain": res.stats.domain,
                    "tokens_in": res.stats.tokens_in, "tokens_out": res.stats.tokens_out,
                    "words": [[w.text, w.kept, w.must_keep, w.line] for w in res.words[:600]]}
            done.append(item)
            if self.pairs:
                rows.append({"request_id": request_id, "created_at": now(), "api": api, "tool_name": slot.tool,
                             "domain": res.stats.domain, "model_id": res.stats.model, "original": slot.text,
                             "compressed": res.text, "tokens_in": res.stats.tokens_in, "tokens_out": res.stats.tokens_out,
                             "ms": ms, "decisions": json.dumps([[int(w.kept), int(w.must_keep), w.score] for w in res.words])})
        self.stats.record(len(slots), done, ms, 0)
        if rows:
            task = asyncio.create_task(asyncio.to_thread(self.pairs.add, rows))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
        if not done:
            return body
        return json.dumps(data, ensure_ascii=False).encode("utf-8")

    async def forward(self, request: Request, path: str) -> Response:
        body = await request.body()
        api = ROUTES.get((request.method, path.strip("/")))
        request_id = uuid.uuid4().hex
        if api and request.headers.get(BYPASS_HEADER) == "1":
            self.stats.bypassed += 1
        elif api:
            body = await self.compress_body(body, api, request_id)
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != BYPASS_HEADER]
        upstream = self.client.build_request(request.method, path, params=request.query_params, headers=headers, content=body)
        try:
            response = await self.client.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            return JSONResponse({"error": {"type": "whorf_proxy_error", "message": f"upstream unreachable: {exc}"}}, status_code=502)
        out_headers = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP - {"content-length"}}
        return StreamingResponse(response.aiter_raw(), status_code=response.status_code, headers=out_headers,
                                 background=BackgroundTask(response.aclose))

    async def drain(self) -> None:
        if self.pending:
            await asyncio.gather(*self.pending, return_exceptions=True)


def create_app(config: ProxyConfig, compressor=None) -> FastAPI:
    if compressor is None:
        from whorf.compressor import Compressor

        compressor = Compressor(config.model, config.runtime)  # loads once, at start-up
    proxy = Proxy(config, compressor)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        proxy.client = httpx.AsyncClient(base_url=config.upstream.rstrip("/") + "/", timeout=config.upstream_timeout)
        try:
            yield
        finally:
            await proxy.drain()
            await proxy.client.aclose()
            proxy.pool.shutdown(wait=False)

    app = FastAPI(title="whorf proxy", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.proxy = proxy

    @app.get("/stats")
    async def stats() -> JSONResponse:
        snap = proxy.stats.snapshot()
        snap.update({"model": compressor.model_id, "upstream": config.upstream, "logging_pairs": bool(proxy.pairs)})
        return JSONResponse(snap)

    @app.get("/api/recent")
    async def recent() -> JSONResponse:
        return JSONResponse(list(proxy.stats.recent))

    @app.get("/dashboard")
    async def dashboard() -> HTMLResponse:
        return HTMLResponse(resources.files("whorf.proxy").joinpath("dashboard.html").read_text())

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
    async def catch_all(request: Request, path: str) -> Response:
        return await proxy.forward(request, path)

    return app

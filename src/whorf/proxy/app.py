"""``whorf proxy``: compress tool outputs between an agent and its LLM API.

Requests to ``POST /v1/messages`` (Anthropic) and ``POST /v1/chat/completions`` (OpenAI) have their
tool outputs compressed, each once: later requests carry it in the form it first went upstream in (see
:mod:`whorf.proxy.forms`), spliced into the client's own bytes. Everything else, and every response
(streamed SSE included, repeated headers kept), is forwarded unchanged. Compression runs in a worker
process under a deadline; on failure, timeout or overload the original goes upstream, never a failed
request. Only relative paths are forwarded, to the configured upstream.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from contextlib import asynccontextmanager
from importlib import resources

import httpx
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask


from whorf.proxy.compress import BodyCompressor
from whorf.proxy.config import ProxyConfig
from whorf.proxy.forms import FormCache
from whorf.proxy.guard import error_response, host_is_loopback, redact_url, token_matches, upstream_url
from whorf.data.pairs import PairLog
from whorf.proxy.stats import ProxyStats, headline, sessions_view
from whorf.proxy.usage import Ledger, UsageTap, session_key
from whorf.proxy.worker import CompressionWorker, ModelSpec, factory_for
from whorf.proxy.writer import PairWriter

ROUTES = {("POST", "/v1/messages"): "anthropic", ("POST", "/v1/chat/completions"): "openai",
          ("POST", "/v1/responses"): "responses"}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
BYPASS_HEADER = "x-whorf-bypass"


class Proxy:
    def __init__(self, config: ProxyConfig, worker: CompressionWorker):
        self.config = config
        self.worker = worker
        self.stats = ProxyStats()
        self.ledger = Ledger(config.prices)
        uses_db = config.log_pairs or config.persist_forms or config.retrieve
        self.pairs = PairLog(config.db_url) if uses_db else None
        self.writer = PairWriter(self.pairs, retry_s=config.pair_retry_s) if self.pairs else None
        self.forms = FormCache(config.cache_bytes, self.writer if config.persist_forms else None)
        self.originals = None
        if config.retrieve:
            from whorf.proxy.retrieve import Originals

            self.originals = Originals(self.pairs, self.writer)
        self.bodies = BodyCompressor(config, worker, self.forms, self.stats, self.writer, self.originals)
        self.base = httpx.URL(config.upstream.rstrip("/") + "/")
        self.client: httpx.AsyncClient | None = None

    def snapshot(self) -> dict:
        """``/stats``: the counters, the writer's and worker's health, the ledger, the retrievals and, per
        session, what went and why beside what it cost; ``headline`` is the figure to lead with."""
        snap = self.stats.snapshot()
        writer, config = self.writer, self.config
        snap.update({"pid": os.getpid(), "model": self.worker.model_id, "upstream": redact_url(config.upstream),
                     "logging_pairs": config.log_pairs, "pairs_written": writer.written if writer else 0,
                     "pairs_lost": writer.lost if writer else 0, "pair_retries": writer.retries if writer else 0,
                     "worker_restarts": self.worker.restarts, "forms": self.forms.snapshot(),
                     "usage": self.ledger.snapshot(), **self.bodies.feedback.snapshot()})
        snap["sessions"] = sessions_view(snap["sessions"], snap["usage"])
        snap["headline"] = headline(snap)
        return snap

    async def forward(self, request: Request) -> Response:
        target = upstream_url(self.base, request.scope.get("raw_path") or request.url.path.encode(),
                              request.scope.get("query_string", b""))
        if target is None:
            self.stats.add(refused_paths=1)
            return error_response(request.url.path, 400, "invalid_request_error", "only relative paths are forwarded")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                   if k.decode("latin-1").lower() not in HOP_BY_HOP and k.decode("latin-1").lower() != BYPASS_HEADER]
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.config.max_body_bytes:  # streamed through, never held
            self.stats.add(too_large=1)
            return await self.send(request.method, target, headers + [("content-length", declared)], request.stream())
        body = await request.body()
        api = ROUTES.get((request.method, request.url.path.rstrip("/")))
        rewrite = None
        if api and len(body) > self.config.max_body_bytes:
            self.stats.add(too_large=1)
        elif api and not request.headers.get("content-encoding"):
            bypass = request.headers.get(BYPASS_HEADER) == "1"
            if bypass:
                self.stats.add(bypassed=1)
            rewrite = await self.bodies.run(body, api, uuid.uuid4().hex, bypass)
            body = rewrite.body
        account = None
        if api and rewrite is not None and rewrite.data is not None:
            account = (session_key(rewrite.data), rewrite.saved_new, rewrite.saved_reused)
        if self.originals is not None and rewrite is not None and rewrite.data is not None and api in ("anthropic", "openai", "responses"):
            from whorf.proxy.retrieve import answer_with_retrieval

            handled = await answer_with_retrieval(self, api, target, headers, rewrite)
            if handled is not None:
                return handled
        return await self.send(request.method, target, headers, body, account)

    async def send(self, method: str, target: httpx.URL, headers: list, body, account=None) -> Response:
        """Forward to the upstream (``body``: bytes, or the client's stream) and relay its answer; with an
        ``account`` (session, tokens saved on new and on reused outputs) its usage goes to the ledger."""
        upstream = self.client.build_request(method, target, headers=headers, content=body)
        try:
            response = await self.client.send(upstream, stream=True)
        except httpx.TimeoutException as exc:
            return error_response(target.path, 504, "timeout_error",
                                  f"whorf proxy: the upstream did not answer in time ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            return error_response(target.path, 502, "api_error", f"whorf proxy: upstream unreachable ({type(exc).__name__})")
        return relay(response, self._accounted(response, account) if account else None)

    def _accounted(self, response: httpx.Response, account: tuple):
        """The tap that books this answer's usage for its session when the answer has passed."""
        streamed = "text/event-stream" in response.headers.get("content-type", "")
        tap = UsageTap(streamed) if response.status_code == 200 else None
        return tap, lambda: self.ledger.record(account[0], tap.close() if tap else None, account[1], account[2])


def relay(response: httpx.Response, accounted=None) -> StreamingResponse:
    """Stream an upstream response to the client: same status, same headers (repeated ones kept); an
    ``accounted`` (tap, done) pair sees every byte and is told when the answer ends."""
    chunks = response.aiter_raw() if accounted is None else _tapped(response, *accounted)
    out = StreamingResponse(chunks, status_code=response.status_code,
                            background=BackgroundTask(response.aclose))
    out.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items()
                       if k.lower() not in HOP_BY_HOP - {"content-length"}]
    return out


async def _tapped(response: httpx.Response, tap, done):
    """The upstream's raw bytes, as they come, with a copy (decoded when gzip/deflate) fed to ``tap``."""
    import zlib

    encoding = response.headers.get("content-encoding", "identity").lower()
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS) \
        if encoding in ("gzip", "deflate") else None
    try:
        async for chunk in response.aiter_raw():
            if tap is not None and (decoder is not None or encoding == "identity"):
                try:
                    tap.feed(decoder.decompress(chunk) if decoder else chunk)
                except zlib.error:
                    tap = None
            yield chunk
    finally:
        done()


def create_app(config: ProxyConfig, compressor=None, worker: CompressionWorker | None = None) -> FastAPI:
    """The proxy app. ``worker``: a started :class:`CompressionWorker` to share (the caller stops it);
    otherwise one is started for ``compressor`` (or for ``config.model``) and stopped with the app."""
    own_worker = worker is None
    if worker is None:
        factory = factory_for(compressor) if compressor is not None else ModelSpec(config.model, config.runtime)
        worker = CompressionWorker(factory, kill_after_s=config.kill_after_s)
    proxy = Proxy(config, worker)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await asyncio.to_thread(worker.start)  # the model loads once, before the first request
        proxy.client = httpx.AsyncClient(timeout=config.upstream_timeout)
        try:
            yield
        finally:
            await proxy.client.aclose()
            if proxy.writer:
                await asyncio.to_thread(proxy.writer.close)
            if own_worker:
                await asyncio.to_thread(worker.stop)

    app = FastAPI(title="whorf proxy", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.proxy = proxy

    def private(request: Request) -> bool:
        return host_is_loopback(request.headers.get("host")) or token_matches(
            config.dashboard_token, request.headers.get("authorization"), request.query_params.get("token"))

    def forbidden() -> JSONResponse:
        return JSONResponse({"error": "the dashboard answers loopback Host names only (or --dashboard-token)"}, 403)

    @app.get("/stats")
    async def stats() -> JSONResponse:
        return JSONResponse(proxy.snapshot())

    @app.get("/api/recent")
    async def recent(request: Request) -> JSONResponse:
        return JSONResponse(list(proxy.stats.recent)) if private(request) else forbidden()

    @app.get("/api/original/{handle}")
    async def original(handle: str, request: Request) -> Response:
        return await _original(handle) if private(request) else forbidden()

    @app.get("/dashboard")
    async def dashboard(request: Request) -> Response:
        if not private(request):
            return forbidden()
        return HTMLResponse(resources.files("whorf.proxy").joinpath("dashboard.html").read_text())

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
    async def catch_all(request: Request, path: str) -> Response:
        return await proxy.forward(request)

    app.add_api_websocket_route("/{path:path}", _refuse_websocket(proxy))
    return app


async def _original(handle: str) -> Response:
    """What a marker omitted, byte for byte, from the local store (what ``whorf retrieve`` prints)."""
    from whorf.store import Store

    found = await asyncio.to_thread(Store().get, handle if handle.startswith("whorf:") else "whorf:" + handle)
    if found is None:
        return JSONResponse({"error": f"nothing stored under {handle}"}, 404)
    return Response(found, media_type="text/plain; charset=utf-8")


def _refuse_websocket(proxy: Proxy):
    async def no_websocket(websocket: WebSocket, path: str) -> None:
        """The proxy does not relay WebSockets (Codex tries its Responses WebSocket transport first): 426
        makes the client fall back to HTTPS at once (measured with Codex 0.171: 0.3 s; a 403, 404 or 501 makes
        it retry seven times over about 6 s)."""
        proxy.stats.add(websocket_refused=1)
        await websocket.send_denial_response(error_response(
            "/" + path, 426, "invalid_request_error", "whorf proxy: WebSocket transport not supported, use HTTPS"))

    return no_websocket

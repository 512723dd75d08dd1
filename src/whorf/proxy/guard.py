"""Small safety checks of the proxy: upstream URLs, who may read the dashboard, what /stats may show."""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

import httpx
from fastapi.responses import JSONResponse

from whorf.urls import redact_url  # noqa: F401 - the proxy's callers import it from here

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def host_is_loopback(host_header: str | None) -> bool:
    """True when the request's Host header names this machine (defeats DNS rebinding)."""
    if not host_header:
        return False
    try:
        host = urlsplit(f"//{host_header}").hostname or ""
    except ValueError:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_matches(expected: str | None, header: str | None, query: str | None) -> bool:
    if not expected:
        return False
    given = query or ""
    if header and header.lower().startswith("bearer "):
        given = header[7:].strip()
    return hmac.compare_digest(given.encode(), expected.encode())


def upstream_url(base: httpx.URL, raw_path: bytes, query: bytes) -> httpx.URL | None:
    """``base`` joined with the client's raw path, or None when the path is not a plain relative path.

    ``POST /http://other-host/x`` or ``//other-host/x`` must never reach another host with the client's
    credentials: such paths are refused.
    """
    try:
        path = raw_path.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not path.startswith("/") or path.startswith("//") or "://" in path.split("?", 1)[0][:32] or "\\" in path:
        return None
    target = str(base).rstrip("/") + path
    if query:
        target += "?" + query.decode("latin-1")
    try:
        url = httpx.URL(target)
    except httpx.InvalidURL:
        return None
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        return None
    return url


def error_response(path: str, status: int, kind: str, message: str) -> JSONResponse:
    """An error the proxy itself answers, in the envelope of the API the client speaks (its SDK parses it):
    Anthropic's ``{"type": "error", "error": {...}}`` on /v1/messages, OpenAI's ``{"error": {...}}`` elsewhere."""
    if path.rstrip("/").endswith("/messages"):
        return JSONResponse({"type": "error", "error": {"type": kind, "message": message}}, status_code=status)
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}}, status_code=status)

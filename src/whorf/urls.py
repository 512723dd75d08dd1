"""Showing a URL without what may be a secret in it (light: the batch jobs and the proxy both use it)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact_url(url: str) -> str:
    """``url`` without user, password, query string or fragment (they may carry credentials). A URL without
    a host (a database file: ``sqlite:///path``) keeps its path as written."""
    try:
        parts = urlsplit(url)
        if not parts.netloc:
            return f"{parts.scheme}://{parts.path}"
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "<invalid url>"

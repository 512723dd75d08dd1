"""What a session really cost, net of the prompt cache: the upstream's own usage figures, priced.

Each upstream answer (JSON or streamed SSE) carries usage: Anthropic ``input_tokens``,
``cache_read_input_tokens``, ``cache_creation_input_tokens``, ``output_tokens``; OpenAI chat
``prompt_tokens`` (``prompt_tokens_details.cached_tokens``) and ``completion_tokens``; the Responses API
``input_tokens`` (``input_tokens_details.cached_tokens``) and ``output_tokens``. :class:`UsageTap` reads
them from the bytes relayed to the client without holding the stream back. :class:`Ledger` adds them up per
session and prices them with :class:`Prices` (dollars per million tokens, configurable), beside what the
same requests would have cost uncompressed: the tokens compression saved, priced as the session's own usage
shows they would have been: an output sent for the first time as a cache write when the session writes to
the cache (Anthropic's breakpoints) and as fresh input otherwise, one already in the history as a cache read
when the session reads from the cache and as fresh input when it never does (an estimate: the counterfactual
session is assumed to hit the cache as this one did). A cache miss is a request that read fewer
cached tokens than the previous request of its session had cached, by more than ``MISS_SLACK`` tokens (the
end of a prompt is rewritten as the conversation grows: its closing brackets, a moved breakpoint); a session
whose misses cost more than compression saved is flagged.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_JSON_BYTES = 4 * 2**20  # a JSON answer is parsed for its usage only up to this size
MAX_SESSIONS = 1000
MISS_SLACK = 64  # tokens a later request may read fewer than its predecessor cached without it being a miss


@dataclass(frozen=True)
class Prices:
    """Dollars per million tokens (defaults: a mid-size Anthropic model's list prices)."""

    input: float = 3.0
    cache_read: float = 0.30
    cache_write: float = 3.75
    output: float = 15.0


@dataclass
class Usage:
    input: int = 0  # uncached input tokens
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0

    def cost(self, p: Prices) -> float:
        return (self.input * p.input + self.cache_read * p.cache_read + self.cache_write * p.cache_write
                + self.output * p.output) / 1e6

    def merge(self, other: "Usage") -> None:
        """Fold in a later figure of the same answer (streams repeat and grow their counts)."""
        for name in ("input", "cache_read", "cache_write", "output"):
            setattr(self, name, max(getattr(self, name), getattr(other, name)))


def parse_usage(obj: Any) -> Usage | None:
    """The usage of one API object (an answer, a stream event), or None when it carries none."""
    if not isinstance(obj, dict):
        return None
    u = obj.get("usage")
    for key in ("message", "response"):  # Anthropic message_start, Responses response.completed
        if not isinstance(u, dict) and isinstance(obj.get(key), dict):
            u = obj[key].get("usage")
    if not isinstance(u, dict):
        return None
    num = lambda v: v if isinstance(v, int) and not isinstance(v, bool) else 0  # noqa: E731
    details = u.get("prompt_tokens_details") or u.get("input_tokens_details") or {}
    cached = num(details.get("cached_tokens")) if isinstance(details, dict) else 0
    if "prompt_tokens" in u:  # OpenAI chat: prompt tokens include the cached ones
        return Usage(num(u["prompt_tokens"]) - cached, cached, 0, num(u.get("completion_tokens")))
    if "cache_read_input_tokens" in u or "cache_creation_input_tokens" in u or not details:
        return Usage(num(u.get("input_tokens")), num(u.get("cache_read_input_tokens")),
                     num(u.get("cache_creation_input_tokens")), num(u.get("output_tokens")))
    return Usage(num(u.get("input_tokens")) - cached, cached, 0, num(u.get("output_tokens")))  # Responses


class UsageTap:
    """Fed the bytes of one answer as they pass; ``usage`` is what they reported."""

    def __init__(self, streamed: bool):
        self.streamed = streamed
        self.buffer = bytearray()
        self.usage: Usage | None = None
        self.too_large = False

    def feed(self, chunk: bytes) -> None:
        if self.too_large:
            return
        self.buffer += chunk
        if not self.streamed:
            self.too_large = len(self.buffer) > MAX_JSON_BYTES
            return
        *lines, rest = self.buffer.split(b"\n")
        self.buffer = bytearray(rest)
        for line in lines:
            if line.startswith(b"data:") and b"usage" in line:
                self._take(line[5:])

    def close(self) -> Usage | None:
        if not self.streamed and not self.too_large:
            self._take(bytes(self.buffer))
        self.buffer = bytearray()
        return self.usage

    def _take(self, raw: bytes) -> None:
        try:
            found = parse_usage(json.loads(raw))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return
        if found is not None:
            if self.usage is None:
                self.usage = found
            else:
                self.usage.merge(found)


@dataclass
class Session:
    requests: int = 0
    usage: Usage = field(default_factory=Usage)
    saved_new: int = 0  # tokens compression saved on outputs sent for the first time
    saved_reused: int = 0  # ... on outputs already in the history (cached, had they been sent whole)
    cache_misses: int = 0
    miss_tokens: int = 0  # cached tokens the previous request had that this one did not read
    last_cached: int = 0

    def report(self, p: Prices) -> dict:
        actual = self.usage.cost(p)
        new_price = p.cache_write if self.usage.cache_write else p.input
        reused_price = p.cache_read if self.usage.cache_read else p.input
        saved = (self.saved_new * new_price + self.saved_reused * reused_price) / 1e6
        miss_cost = self.miss_tokens * (p.input - p.cache_read) / 1e6
        return {"requests": self.requests, **{f"tokens_{k}": v for k, v in asdict(self.usage).items()},
                "tokens_saved": self.saved_new + self.saved_reused, "cache_misses": self.cache_misses,
                "cost": round(actual, 6), "cost_uncompressed_estimate": round(actual + saved, 6),
                "saved": round(saved, 6), "cache_miss_cost": round(miss_cost, 6),
                "costs_more_than_it_saves": miss_cost > saved}


class Ledger:
    def __init__(self, prices: Prices | None = None):
        self.prices = prices or Prices()
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()

    def record(self, session: str, usage: Usage | None, saved_new: int, saved_reused: int) -> None:
        with self.lock:
            s = self.sessions.get(session)
            if s is None:
                if len(self.sessions) >= MAX_SESSIONS:
                    self.sessions.pop(next(iter(self.sessions)))
                s = self.sessions[session] = Session()
            s.requests += 1
            s.saved_new += saved_new
            s.saved_reused += saved_reused
            if usage is None:
                return
            for name in ("input", "cache_read", "cache_write", "output"):
                setattr(s.usage, name, getattr(s.usage, name) + getattr(usage, name))
            if s.last_cached and usage.cache_read < s.last_cached - MISS_SLACK:
                s.cache_misses += 1
                s.miss_tokens += s.last_cached - usage.cache_read
            s.last_cached = usage.cache_read + usage.cache_write

    def snapshot(self) -> dict:
        with self.lock:
            sessions = {k: s.report(self.prices) for k, s in self.sessions.items()}
        total: dict[str, Any] = {}
        for r in sessions.values():
            for k, v in r.items():
                total[k] = (total.get(k, False) or v) if isinstance(v, bool) else total.get(k, 0) + v
        return {"prices_per_million": asdict(self.prices), "total": total, "sessions": sessions}


def session_key(data: Any) -> str:
    """A conversation's key: the client's own (Codex's prompt_cache_key, Anthropic metadata.user_id), else
    a digest of its first message (the same in every request of the conversation)."""
    import hashlib

    if isinstance(data, dict):
        for value in (data.get("prompt_cache_key"), (data.get("metadata") or {}).get("user_id")
                      if isinstance(data.get("metadata"), dict) else None):
            if isinstance(value, str) and value:
                return value[:64]
        first = (data.get("messages") or data.get("input") or [None])
        first = first[0] if isinstance(first, list) and first else first
        return hashlib.sha256(json.dumps(first, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return "unparsed"

"""Live counters of the proxy: what it saw, what it saved, what failed, how long it took."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class ProxyStats:
    requests: int = 0
    tool_outputs_seen: int = 0
    tool_outputs_compressed: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    failures: int = 0
    bypassed: int = 0
    shed: int = 0  # forwarded uncompressed at once because the compression queue was full
    deadline_missed: int = 0  # new outputs forwarded original because compression was too slow
    reused: int = 0  # tool outputs sent in the form recorded for them earlier (no compression)
    new_outputs: int = 0  # tool outputs seen for the first time
    unparsed: int = 0  # bodies forwarded unchanged: not JSON, unexpected shape, or not rewritable
    refused_paths: int = 0  # requests refused because the path was not relative
    too_large: int = 0  # bodies over max_body_bytes, forwarded unchanged without being parsed
    websocket_refused: int = 0  # WebSocket upgrades answered 426 (the client falls back to HTTPS)
    retrievals: int = 0  # originals asked back: whorf_retrieve calls answered, `whorf retrieve` commands run
    relaxed_outputs: int = 0  # outputs given the normal budget because their shape was asked back too often
    started: float = field(default_factory=time.time)
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=5000))
    series: deque = field(default_factory=lambda: deque(maxlen=2000))  # (time, before, after) per request
    recent: deque = field(default_factory=lambda: deque(maxlen=20))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def record(self, seen: int, compressed: list, ms: float, failures: int, new: list | None = None) -> None:
        """One request: ``compressed`` are its outputs sent compressed, ``new`` those compressed just now."""
        with self.lock:
            self.requests += 1
            self.tool_outputs_seen += seen
            self.failures += failures
            before = after = 0
            for item in compressed:
                self.tool_outputs_compressed += 1
                before += item["tokens_in"]
                after += item["tokens_out"]
            for item in compressed if new is None else new:
                self.recent.appendleft(item)
            self.tokens_before += before
            self.tokens_after += after
            if seen:
                self.latencies_ms.append(ms)
            if before:
                self.series.append((time.time(), before, after))

    def snapshot(self) -> dict:
        with self.lock:
            lat = np.asarray(self.latencies_ms) if self.latencies_ms else np.zeros(1)
            saved = self.tokens_before - self.tokens_after
            return {
                "requests": self.requests,
                "tool_outputs_seen": self.tool_outputs_seen,
                "tool_outputs_compressed": self.tool_outputs_compressed,
                "tokens_before": self.tokens_before,
                "tokens_after": self.tokens_after,
                "tokens_saved": saved,
                "savings": saved / self.tokens_before if self.tokens_before else 0.0,
                "failures": self.failures,
                "bypassed": self.bypassed,
                "shed": self.shed,
                "deadline_missed": self.deadline_missed,
                "reused": self.reused,
                "new_outputs": self.new_outputs,
                "unparsed": self.unparsed,
                "refused_paths": self.refused_paths,
                "too_large": self.too_large,
                "websocket_refused": self.websocket_refused,
                "retrievals": self.retrievals,
                "relaxed_outputs": self.relaxed_outputs,
                "latency_ms": {"p50": float(np.percentile(lat, 50)), "p90": float(np.percentile(lat, 90)),
                               "p99": float(np.percentile(lat, 99)), "max": float(lat.max())},
                "uptime_s": time.time() - self.started,
                "series": [{"t": t, "before": b, "after": a} for t, b, a in self.series],
            }


def sessions_view(activity: dict, usage: dict) -> dict:
    """Per session: what was compressed, what went (units by reason, the query terms that were the
    evidence), what the model asked back and re-ran, beside what the session cost and saved net of the
    prompt cache (the ledger's figures; ``cost`` is None before the upstream reported any usage)."""
    ledger = usage.get("sessions", {})
    out = {}
    for key in dict.fromkeys([*ledger, *activity]):
        u, a = ledger.get(key, {}), activity.get(key, {})
        out[key] = {**a, "requests": u.get("requests", 0), "cost": u.get("cost"),
                    "cost_uncompressed_estimate": u.get("cost_uncompressed_estimate"),
                    "saved_net_of_cache": round(u.get("saved", 0.0) - u.get("cache_miss_cost", 0.0), 6),
                    "cache_misses": u.get("cache_misses", 0)}
    return out


def headline(snap: dict) -> dict:
    """The figure to lead with: dollars saved net of the prompt cache (saving priced at the cache's rates,
    less what cache misses cost), and beside it, labelled as such, the raw token ratio of the tool outputs."""
    total = snap.get("usage", {}).get("total", {})
    net = total.get("saved", 0.0) - total.get("cache_miss_cost", 0.0)
    before = total.get("cost_uncompressed_estimate")
    return {"cost": total.get("cost"), "cost_uncompressed_estimate": before, "saved_net_of_cache": round(net, 6),
            "saved_net_share": round(net / before, 4) if before else None,
            "tool_output_token_ratio": round(snap["tokens_after"] / snap["tokens_before"], 4) if snap.get("tokens_before") else None}

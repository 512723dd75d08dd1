"""Which form each tool output went upstream in: compress once, then send the same bytes every time.

A tool output is identified by ``(model id, options, sha256 of its text)``. The first decision for it
wins: the compressed text, or the original (the compression was too slow, the queue was full, the
client bypassed the proxy, or compressing did not help). Every later request that carries the same
output sends that same form, so the history the upstream sees never changes and its prompt cache hits.

Decisions live in a bounded LRU (by bytes); with a :class:`~whorf.data.pairs.PairLog` they are also
written to its ``forms`` table and looked up there after eviction or a restart.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, is_dataclass

ORIGINAL = "original"
COMPRESSED = "compressed"
_ENTRY_OVERHEAD = 200  # bytes counted per entry besides its text (key, dict slot, object)


@dataclass(frozen=True)
class Form:
    kind: str  # COMPRESSED or ORIGINAL
    text: str | None = None  # the compressed text (None for ORIGINAL)
    reason: str = ""  # why ORIGINAL: deadline, shed, bypass, failure, no-gain, passthrough
    tokens_in: int = 0  # the compressor's token counts (COMPRESSED), for the running totals
    tokens_out: int = 0

    @property
    def cost(self) -> int:
        return _ENTRY_OVERHEAD + (len(self.text) * 2 if self.text else 0)


def options_key(options) -> str:
    raw = asdict(options) if is_dataclass(options) else options
    return json.dumps(raw, sort_keys=True, default=str)


def form_key(model_id: str, options: str, text: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"{model_id}\x00{options}\x00".encode())
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class FormCache:
    """Thread-safe LRU of decisions, bounded by (approximate) bytes, with an optional persistent table."""

    def __init__(self, max_bytes: int = 256 * 2**20, store=None):
        self.max_bytes = max_bytes
        self.store = store  # anything with load_form(key) -> Form | None and save_form(key, form)
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self._entries: OrderedDict[str, Form] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Form | None:
        """The recorded form (memory first, then the persistent table), or None for a new output."""
        with self._lock:
            form = self._entries.get(key)
            if form is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return form
        form = self.store.load_form(key) if self.store is not None else None
        with self._lock:
            if form is None:
                self.misses += 1
                return None
            self.hits += 1
            return self._insert(key, form)

    def decide(self, key: str, form: Form) -> Form:
        """Record ``form`` unless a decision exists already; return the decision that holds."""
        with self._lock:
            existing = self._entries.get(key)
            if existing is not None:
                self._entries.move_to_end(key)
                return existing
            held = self._insert(key, form)
        if self.store is not None and held is form:
            self.store.save_form(key, form)
        return held

    def _insert(self, key: str, form: Form) -> Form:
        existing = self._entries.get(key)
        if existing is not None:
            return existing
        self._entries[key] = form
        self.bytes += form.cost
        while self.bytes > self.max_bytes and len(self._entries) > 1:
            _, old = self._entries.popitem(last=False)
            self.bytes -= old.cost
            self.evictions += 1
        return form

    def snapshot(self) -> dict:
        with self._lock:
            return {"entries": len(self._entries), "bytes": self.bytes, "max_bytes": self.max_bytes,
                    "hits": self.hits, "misses": self.misses, "evictions": self.evictions}

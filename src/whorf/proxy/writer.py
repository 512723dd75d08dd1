"""Writes to the pair database off the request path: retried while the database is busy, never silent.

One background thread drains a bounded queue. A batch that fails (a locked SQLite file, a PostgreSQL
restart) is retried with backoff for up to ``retry_s`` seconds; rows still unwritten after that, or that
arrive while the queue is full, are counted in ``lost`` (``/stats``: ``pairs_lost``). Errors are logged
by exception type only, never with their message: SQL errors carry the rows' tool-output text.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from whorf.proxy.forms import Form
from whorf.data.pairs import PairLog, now

log = logging.getLogger("whorf.proxy")


class PairWriter:
    def __init__(self, pairs: PairLog, retry_s: float = 120.0, max_pending: int = 10_000):
        self.pairs = pairs
        self.retry_s = retry_s
        self.max_pending = max_pending
        self.written = 0
        self.lost = 0
        self.retries = 0
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._run, name="whorf-pair-writer", daemon=True)
        self._thread.start()

    # --- producers (any thread) ------------------------------------------------------------------

    def put(self, kind: str, rows: list[dict]) -> None:
        """Queue rows of ``kind`` ("pairs", "forms", "originals" or "retrievals") for writing."""
        if not rows:
            return
        with self._lock:
            if self._pending + len(rows) > self.max_pending:
                if kind == "pairs":
                    self.lost += len(rows)
                log.warning("pair database queue full: %d %s rows dropped", len(rows), kind)
                return
            self._pending += len(rows)
        self._queue.put((kind, rows))

    def save_form(self, key: str, form: Form) -> None:
        self.put("forms", [{"key": key, "kind": form.kind, "text": form.text, "reason": form.reason,
                                  "tokens_in": form.tokens_in, "tokens_out": form.tokens_out, "created_at": now()}])

    def load_form(self, key: str) -> Form | None:
        try:
            row = self.pairs.get_form(key)
        except Exception as exc:  # noqa: BLE001 - a miss: the output is compressed again (deterministic)
            log.warning("form lookup failed (%s)", type(exc).__name__)
            return None
        return Form(row.kind, row.text, row.reason, row.tokens_in, row.tokens_out) if row is not None else None

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued row was written or given up; True when the queue is empty."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 30.0) -> None:
        self.flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout=5)

    # --- the writer thread -----------------------------------------------------------------------

    def _write(self, kind: str, rows: list[dict]) -> None:
        if kind == "pairs":
            self.pairs.add(rows)
        elif kind == "forms":
            self.pairs.add_forms(rows)
        elif kind == "retrievals":
            self.pairs.add_retrievals(rows)
        else:
            self.pairs.add_originals(rows)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            kind, rows = item
            ok = self._write_with_retry(kind, rows)
            with self._idle:
                if ok and kind == "pairs":
                    self.written += len(rows)
                elif not ok and kind == "pairs":
                    self.lost += len(rows)
                self._pending -= len(rows)
                self._idle.notify_all()

    def _write_with_retry(self, kind: str, rows: list[dict]) -> bool:
        started = time.monotonic()
        delay = 0.05
        while True:
            try:
                self._write(kind, rows)
                return True
            except Exception as exc:  # noqa: BLE001 - logged by type only (messages carry row text)
                if time.monotonic() - started + delay > self.retry_s:
                    log.error("pair database write failed (%s): %d %s rows lost", type(exc).__name__, len(rows), kind)
                    return False
                self.retries += 1
                log.warning("pair database busy (%s), retrying", type(exc).__name__)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

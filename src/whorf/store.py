"""The store of omitted originals: every marker's handle names the text it replaced, byte for byte.

A handle is content-addressed (``whorf:`` + the first hex digits of the SHA-256 of the original), so the
same omission gets the same handle in every run and every process: a compressed output looks the same
each time it is produced (an agent's prompt cache sees the same bytes). The store is a SQLite file in the cache directory; rows expire after
``ttl_days`` without use. Originals are stored as UTF-8 text with surrogates escaped, so what comes back is
exactly what went in.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from whorf.registry import cache_dir

PREFIX = "whorf:"
DIGITS = 8
HANDLE_TEXT = re.compile(r"(whorf:)?[0-9a-f]{8,64}")


def handle_of(original: str) -> str:
    """The content-addressed handle of ``original``."""
    digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()
    return PREFIX + digest[:DIGITS]


class Store:
    """A small key-value store of originals by handle (thread-safe, one SQLite file)."""

    def __init__(self, path: str | Path | None = None, ttl_days: float = 30.0):
        self.path = Path(path) if path else cache_dir() / "store.sqlite"
        self.ttl = ttl_days * 86400.0
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def __getstate__(self) -> dict:
        """Pickled (for a worker process) as its path and expiry; the connection is opened again there."""
        return {"path": self.path, "ttl": self.ttl}

    def __setstate__(self, state: dict) -> None:
        self.path, self.ttl = state["path"], state["ttl"]
        self._lock = threading.Lock()
        self._db = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS originals (handle TEXT PRIMARY KEY, body BLOB NOT NULL, used REAL NOT NULL)"
            )
            self._db = db
        return self._db

    def put(self, original: str) -> str:
        return self.put_many([original])[0]

    def put_many(self, originals: list[str]) -> list[str]:
        """Store originals; returns their handles (one transaction)."""
        if not originals:
            return []
        now = time.time()
        rows = [(handle_of(o), o.encode("utf-8", "surrogatepass"), now) for o in originals]
        with self._lock:
            db = self._conn()
            with db:
                db.executemany(
                    "INSERT INTO originals (handle, body, used) VALUES (?, ?, ?) "
                    "ON CONFLICT(handle) DO UPDATE SET used = excluded.used",
                    rows,
                )
                db.execute("DELETE FROM originals WHERE used < ?", (now - self.ttl,))
        return [h for h, _, _ in rows]

    def get(self, handle: str) -> str | None:
        """The original under ``handle`` (with or without the ``whorf:`` prefix), or None."""
        key = handle if handle.startswith(PREFIX) else PREFIX + handle
        with self._lock:
            db = self._conn()
            row = db.execute("SELECT body, used FROM originals WHERE handle = ?", (key,)).fetchone()
            if row is None or row[1] < time.time() - self.ttl:
                return None
            with db:
                db.execute("UPDATE originals SET used = ? WHERE handle = ?", (time.time(), key))
        return bytes(row[0]).decode("utf-8", "surrogatepass")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def retrieve(handle: str, store: Store | None = None) -> str | None:
    """The original text a marker's handle names (``whorf:1f2e3d4c``), or None if unknown or expired."""
    return (store or Store()).get(handle.strip())

"""The store of omitted originals: every marker's handle names the text it replaced, byte for byte.

A handle is content-addressed (``whorf:`` + the first hex digits of the SHA-256 of the original), so the
same omission gets the same handle in every run and every process: a compressed output looks the same
each time it is produced (an agent's prompt cache sees the same bytes). The store is a SQLite file,
``store.sqlite`` in the cache directory (``$XDG_CACHE_HOME/whorf``, else ``~/.cache/whorf``; ``whorf store
path`` prints it); rows expire after ``ttl_days`` without use. Originals are stored as UTF-8 text with
surrogates escaped, so what comes back is exactly what went in.

The store is a cache, never a dependency: when its file cannot be opened, read or written (corrupt,
locked, read-only, disk full) compression goes on without it (markers still carry their handles), one
warning names the file and the fix, and a corrupt file is moved aside and the store rebuilt empty.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
import time
from pathlib import Path

from whorf.config import cache_dir

log = logging.getLogger("whorf")
PREFIX = "whorf:"
BUSY_TIMEOUT_S = 2.0  # a locked store is waited on this long, then skipped
RETRY_AFTER_S = 30.0  # after a failure the store is not tried again for this long
DIGITS = 12  # 48 bits: two different originals share a handle once in about 16 million
HANDLE_TEXT = re.compile(r"(whorf:)?[0-9a-f]{8,64}")


def _digest(original: str) -> str:
    return hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()


def handle_of(original: str) -> str:
    """The content-addressed handle of ``original``."""
    return PREFIX + _digest(original)[:DIGITS]


class Store:
    """A small key-value store of originals by handle (thread-safe, one SQLite file)."""

    def __init__(self, path: str | Path | None = None, ttl_days: float = 30.0):
        self.path = Path(path) if path else cache_dir() / "store.sqlite"
        self.ttl = ttl_days * 86400.0
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._warned = False
        self._skip_until = 0.0

    def __getstate__(self) -> dict:
        """Pickled (for a worker process) as its path and expiry; the connection is opened again there."""
        return {"path": self.path, "ttl": self.ttl}

    def __setstate__(self, state: dict) -> None:
        self.path, self.ttl = state["path"], state["ttl"]
        self._lock = threading.Lock()
        self._db = None
        self._warned = False
        self._skip_until = 0.0

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as exc:  # not a database, malformed: keep it aside, start empty
                if isinstance(exc, sqlite3.OperationalError) or not self.path.is_file():
                    raise
                aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
                self.path.replace(aside)
                for extra in ("-wal", "-shm"):
                    self.path.with_name(self.path.name + extra).unlink(missing_ok=True)
                log.warning("whorf: the store %s was not a readable database (%s); moved it aside to %s and "
                            "started an empty store", self.path, exc, aside.name)
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS originals (handle TEXT PRIMARY KEY, body BLOB NOT NULL, used REAL NOT NULL)")
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _warn(self, what: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("whorf: the store %s %s; compression goes on without it (markers keep their handles). "
                        "Check it with `whorf store check`, start it afresh with `whorf store reset`.", self.path, what)

    def put(self, original: str) -> str:
        return self.put_many([original])[0]

    def put_many(self, originals: list[str]) -> list[str]:
        """Store originals; returns their handles (one transaction). A store that fails is skipped, with one
        warning: the handles are content-addressed, so they are the same either way."""
        if not originals:
            return []
        now = time.time()
        rows = [(handle_of(o), o.encode("utf-8", "surrogatepass"), now) for o in originals]
        with self._lock:
            if now < self._skip_until:
                return [h for h, _, _ in rows]
            try:
                db = self._conn()
                with db:
                    db.executemany(
                        "INSERT INTO originals (handle, body, used) VALUES (?, ?, ?) "
                        "ON CONFLICT(handle) DO UPDATE SET used = excluded.used",
                        rows,
                    )
                    db.execute("DELETE FROM originals WHERE used < ?", (now - self.ttl,))
            except (sqlite3.Error, OSError) as exc:
                self._fail(f"could not be written ({type(exc).__name__}: {exc})")
        return [h for h, _, _ in rows]

    def get(self, handle: str) -> str | None:
        """The original under ``handle`` (with or without the ``whorf:`` prefix), or None (unknown, expired, or
        the store unreadable: then with one warning)."""
        key = handle if handle.startswith(PREFIX) else PREFIX + handle
        with self._lock:
            if time.time() < self._skip_until:
                return None
            try:
                db = self._conn()
                row = db.execute("SELECT body, used FROM originals WHERE handle = ?", (key,)).fetchone()
                if row is None or row[1] < time.time() - self.ttl:
                    return None
                with db:
                    db.execute("UPDATE originals SET used = ? WHERE handle = ?", (time.time(), key))
            except (sqlite3.Error, OSError) as exc:
                self._fail(f"could not be read ({type(exc).__name__}: {exc})")
                return None
        try:
            original = bytes(row[0]).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            original = None
        if original is None or not _digest(original).startswith(key[len(PREFIX):]):
            self._warn(f"holds a damaged original under {key} (its bytes no longer match the handle)")
            return None  # never hand back bytes that are not what the marker omitted
        return original

    def check(self) -> str | None:
        """None when the file is a sound store (or not created yet), else what is wrong with it."""
        if self.path.exists() and not self.path.is_file():
            return "not a file (a directory or a device is in its place: move it away)"
        if not self.path.is_file():
            return None
        try:
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S) as db:
                result = db.execute("PRAGMA integrity_check").fetchone()[0]
                db.execute("SELECT count(*) FROM originals").fetchone()
        except sqlite3.Error as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if result == "ok" else result

    def stats(self) -> dict:
        """Path, rows and bytes on disk (rows None when the file cannot be read)."""
        rows = None
        if self.path.is_file() and self.check() is None:
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
                rows = db.execute("SELECT count(*) FROM originals").fetchone()[0]
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file()) \
            if self.path.parent.is_dir() else 0
        return {"path": str(self.path), "rows": rows, "bytes": size}

    def reset(self) -> None:
        """Delete the store's files (the originals it held are gone; new ones are stored from now on). A
        directory in the store's place is not deleted: that is an error naming it."""
        if self.path.exists() and not self.path.is_file():
            raise IsADirectoryError(f"{self.path} is not a store file; move it away by hand")
        self.close()
        for extra in ("", "-wal", "-shm"):
            self.path.with_name(self.path.name + extra).unlink(missing_ok=True)
        self._warned = False
        self._skip_until = 0.0

    def _fail(self, what: str) -> None:
        self._warn(what)
        self._reset_connection()
        self._skip_until = time.time() + RETRY_AFTER_S

    def _reset_connection(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

    def close(self) -> None:
        with self._lock:
            self._reset_connection()


def retrieve(handle: str, store: Store | None = None) -> str | None:
    """The original text a marker's handle names (``whorf:1f2e3d4c5b6a``), or None if unknown or expired."""
    return (store or Store()).get(handle.strip())

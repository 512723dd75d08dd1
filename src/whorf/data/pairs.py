"""The pair log: every (original, compressed) tool output the proxy produced, in a real database.

SQLAlchemy; a SQLite file by default (WAL journal), or any SQLAlchemy URL such as PostgreSQL.
Rows never hold credentials: only the tool output, its compression and its metadata. The same database
holds the ``forms`` table (which form each tool output went upstream in, see :mod:`whorf.proxy.forms`)
and, until the structural stage's store exists, the ``originals`` the retrieval tool answers from.
Errors are logged by type only: SQL error messages would carry tool-output text.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import DateTime, Float, Integer, String, Text, create_engine, event, func, inspect, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from whorf.config import cache_dir


class Base(DeclarativeBase):
    pass


class Pair(Base):
    __tablename__ = "pairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    api: Mapped[str] = mapped_column(String(16))
    tool_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    domain: Mapped[str] = mapped_column(String(16))
    model_id: Mapped[str] = mapped_column(String(200))
    original: Mapped[str] = mapped_column(Text)
    compressed: Mapped[str] = mapped_column(Text)
    tokens_in: Mapped[int] = mapped_column(Integer)
    tokens_out: Mapped[int] = mapped_column(Integer)
    ms: Mapped[float] = mapped_column(Float)
    decisions: Mapped[str] = mapped_column(Text)  # JSON: [[kept, must_keep, score], ...] per word
    query: Mapped[str | None] = mapped_column(Text, nullable=True)  # the agent's intent when it read the output
    session: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # usage.session_key
    shape: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the structure module that decided
    # JSON {"by_reason": {"repetition": n, ...}, "query_terms": [...], "handles": [...]}: what went, and why
    omissions: Mapped[str | None] = mapped_column(Text, nullable=True)


class RetrievalRow(Base):
    """One original the model asked back (a ``whorf retrieve`` command it ran, or a whorf_retrieve call)."""

    __tablename__ = "retrievals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    session: Mapped[str] = mapped_column(String(64), index=True)
    handle: Mapped[str] = mapped_column(String(64))
    tool: Mapped[str] = mapped_column(String(200))
    shape: Mapped[str] = mapped_column(String(32))


class FormRow(Base):
    __tablename__ = "forms"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of (model, options, text)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str] = mapped_column(String(32), default="")
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OriginalRow(Base):
    __tablename__ = "originals"

    handle: Mapped[str] = mapped_column(String(64), primary_key=True)
    original: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def default_url() -> str:
    path = cache_dir() / "pairs.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class PairLogError(RuntimeError):
    """The pair database cannot be used; the message names it and what to do."""


class PairLog:
    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        sqlite = self.url.startswith("sqlite")
        self.engine = create_engine(self.url, future=True, hide_parameters=True,
                                    connect_args={"timeout": 1} if sqlite else {}, pool_pre_ping=not sqlite)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            Base.metadata.create_all(self.engine)
            self._add_missing_columns()
        except SQLAlchemyError as exc:
            from whorf.urls import redact_url

            self.engine.dispose()
            cause = getattr(exc, "orig", None) or exc
            raise PairLogError(
                f"the pair database {self.url if sqlite else redact_url(self.url)} cannot be used ({type(cause).__name__}: {cause}); repair or move it aside, pass another --db, or start without --log-pairs, "
                "--persist-forms and --retrieve") from None

    def _add_missing_columns(self) -> None:
        """A pair log made before a column existed gets it (nullable), so old logs stay usable."""
        have = {c["name"] for c in inspect(self.engine).get_columns("pairs")}
        for name, kind in (("query", "TEXT"), ("session", "VARCHAR(64)"), ("shape", "VARCHAR(32)"),
                           ("omissions", "TEXT")):
            if name not in have:
                with self.engine.begin() as conn:
                    conn.execute(sql_text(f"ALTER TABLE pairs ADD COLUMN {name} {kind}"))

    def add(self, rows: list[dict]) -> None:
        if not rows:
            return
        with Session(self.engine) as session, session.begin():
            session.add_all(Pair(**row) for row in rows)

    def count(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count(Pair.id))) or 0)

    def add_forms(self, rows: list[dict]) -> None:
        """Insert forms; a key already present keeps its first form (the decision that went upstream)."""
        self._add_first(FormRow, "key", rows)

    def _add_first(self, model, key: str, rows: list[dict]) -> None:
        """Insert each row whose ``key`` is not stored yet; a row already there (another writer's) holds."""
        for row in rows:
            try:
                with Session(self.engine) as session, session.begin():
                    if session.get(model, row[key]) is None:
                        session.add(model(**row))
            except IntegrityError:  # another writer recorded it first: theirs holds
                continue

    def get_form(self, key: str) -> FormRow | None:
        with Session(self.engine) as session:
            row = session.get(FormRow, key)
            if row is not None:
                session.expunge(row)
            return row

    def add_originals(self, rows: list[dict]) -> None:
        self._add_first(OriginalRow, "handle", rows)

    def add_retrievals(self, rows: list[dict]) -> None:
        with Session(self.engine) as session, session.begin():
            session.add_all(RetrievalRow(**row) for row in rows)

    def retrievals(self) -> list[RetrievalRow]:
        with Session(self.engine) as session:
            rows = list(session.scalars(select(RetrievalRow).order_by(RetrievalRow.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def get_original(self, handle: str) -> str | None:
        with Session(self.engine) as session:
            row = session.get(OriginalRow, handle)
            return row.original if row is not None else None

    def recent(self, limit: int = 20) -> list[Pair]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Pair).order_by(Pair.id.desc()).limit(limit)))

    def iter_pairs(self, since: datetime | None = None) -> Iterator[Pair]:
        query = select(Pair).order_by(Pair.id)
        if since:
            query = query.where(Pair.created_at >= since)
        with Session(self.engine) as session:
            yield from session.scalars(query)

    def export(self, out: str | Path, since: datetime | None = None, min_ratio: float = 1.0) -> dict:
        """Training pairs ``{text, reference, source: "proxy", domain}`` for ``whorf train``/``selflabel``."""
        written = skipped = 0
        with Path(out).open("w") as sink:
            for p in self.iter_pairs(since):
                ratio = len(p.original) / max(len(p.compressed), 1)
                if not p.compressed.strip() or ratio < min_ratio:
                    skipped += 1
                    continue
                sink.write(json.dumps({"text": p.original, "reference": p.compressed, "source": "proxy",
                                       "domain": p.domain, "tool": p.tool_name, "query": p.query}) + "\n")
                written += 1
        return {"written": written, "skipped": skipped}

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def now() -> datetime:
    return datetime.now(timezone.utc)

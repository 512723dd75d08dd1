"""The inputs of a batch job cut into shards: the unit of work, of output and of resuming.

A shard is ``rows`` consecutive rows of one source:

- a JSON lines file: a byte range (rows are split on ``\\n`` only, as ``whorf compress --jsonl`` splits them,
  so a row that is not JSON still comes back as itself);
- a Parquet file: a row range, each row written as one JSON object;
- the proxy's pair log (an SQLAlchemy URL): an id range of the ``pairs`` table, each pair a JSON object
  ``{"pair_id", "text", "reference", "domain", "tool_name", "query"}`` (the original tool output as text
  and the proxy's compression as reference, so it labels like any pair).

The plan is made once, by the driver, and recorded in the output directory: pairs logged after it are not
in this run, and a re-run reads exactly the rows the first one planned. Each worker reads its own shard
from the source (a shared file system or the database), so rows never travel through the driver.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from whorf.jsonl import split_rows
from whorf.textio import json_line

JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")


class SourceError(ValueError):
    """An input that cannot be read as a batch source; the message says which and why."""


@dataclass(frozen=True)
class Shard:
    index: int  # its place in the plan: part-{index:05d}.jsonl
    kind: str  # "jsonl", "parquet" or "sql"
    source: str  # the file's path or the database URL
    first_row: int  # 0-based row number of its first row in the source (for a row's line number)
    rows: int
    start: int = 0  # jsonl: first byte; sql: first pair id (inclusive); parquet: first row
    end: int = 0  # jsonl: byte after its last row's newline; sql: last pair id + 1; parquet: row after its last

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> Shard:
        return Shard(**d)


def is_sql_url(source: str) -> bool:
    return "://" in source and source.split("://", 1)[0].split("+")[0] in {"sqlite", "postgresql", "postgres", "mysql"}


def files_of(source: str) -> list[Path]:
    """The data files of an input: the file itself, or a directory's JSONL and Parquet files (recursively,
    in sorted order, hidden files and directories left out: another batch job's output directory is an input)."""
    path = Path(source)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in JSONL_SUFFIXES + PARQUET_SUFFIXES
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not found:
            raise SourceError(f"{source}: the directory holds no .jsonl or .parquet files")
        return found
    if not path.is_file():
        raise SourceError(f"{source}: no such file or directory")
    return [path]


def plan(sources: list[str], shard_rows: int) -> list[Shard]:
    """Every input cut into shards of at most ``shard_rows`` rows, in input order."""
    if shard_rows < 1:
        raise SourceError(f"shard rows must be at least 1, not {shard_rows}")
    shards: list[Shard] = []
    for source in sources:
        if is_sql_url(source):
            parts = _sql_plan(source, shard_rows)
        else:
            parts = [part for path in files_of(source) for part in _file_plan(path, shard_rows)]
        for kind, src, first, rows, start, end in parts:
            shards.append(Shard(len(shards), kind, src, first, rows, start, end))
    return shards


def fingerprints(shards: list[Shard]) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file the plan reads: a changed file is refused on resume."""
    out: dict[str, tuple[int, int]] = {}
    for shard in shards:
        if shard.kind != "sql" and shard.source not in out:
            st = os.stat(shard.source)
            out[shard.source] = (st.st_size, st.st_mtime_ns)
    return out


def _file_plan(path: Path, shard_rows: int) -> Iterator[tuple]:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        yield from _parquet_plan(path, shard_rows)
    else:
        yield from _jsonl_plan(path, shard_rows)


def _jsonl_plan(path: Path, shard_rows: int) -> Iterator[tuple]:
    """Byte ranges of ``shard_rows`` rows each, found in one pass over the file."""
    first = rows = start = offset = 0
    with path.open("rb") as f:
        for line in f:  # binary iteration splits on b"\n" only
            offset += len(line)
            rows += 1
            if rows == shard_rows:
                yield "jsonl", str(path), first, rows, start, offset
                first, rows, start = first + rows, 0, offset
    if rows:
        yield "jsonl", str(path), first, rows, start, offset


def _parquet_plan(path: Path, shard_rows: int) -> Iterator[tuple]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SourceError(f"{path}: reading Parquet needs pyarrow (pip install 'whorf[scale]')") from None
    try:
        total = pq.ParquetFile(path).metadata.num_rows
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise SourceError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    for first in range(0, total, shard_rows):
        rows = min(shard_rows, total - first)
        yield "parquet", str(path), first, rows, first, first + rows


def _sql_plan(url: str, shard_rows: int) -> Iterator[tuple]:
    """Id ranges of the pair log as it stands now."""
    from sqlalchemy import select

    from whorf.data.pairs import Pair

    engine = _pair_log(url)
    ids: list[int] = []
    first = 0
    try:
        with engine.connect() as conn:
            for (pair_id,) in conn.execute(select(Pair.id).order_by(Pair.id)).yield_per(10_000):
                ids.append(pair_id)
                if len(ids) == shard_rows:
                    yield "sql", url, first, len(ids), ids[0], ids[-1] + 1
                    first, ids = first + len(ids), []
    finally:
        engine.dispose()
    if ids:
        yield "sql", url, first, len(ids), ids[0], ids[-1] + 1


def _pair_log(url: str):
    """An engine on an existing pair log, only read from (no table is created or altered in the source)."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.exc import SQLAlchemyError

    from whorf.urls import redact_url

    shown = redact_url(url)
    if url.startswith("sqlite") and ":memory:" not in url:
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if not Path(path).is_file():
            raise SourceError(f"{shown}: no such database file")
    try:
        engine = create_engine(url, future=True, hide_parameters=True)
        with engine.connect() as conn:
            if not inspect(conn).has_table("pairs"):
                raise SourceError(f"{shown}: the database has no pairs table (is it a whorf pair log?)")
    except ImportError as exc:
        raise SourceError(f"{shown}: its database driver is not installed ({exc})") from None
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        raise SourceError(f"{shown} cannot be read ({type(cause).__name__}: {str(cause).splitlines()[0][:200]})") from None
    return engine


def read(shard: Shard) -> list[bytes]:
    """The shard's rows as JSON lines (without their newline)."""
    if shard.kind == "jsonl":
        with open(shard.source, "rb") as f:
            f.seek(shard.start)
            data = f.read(shard.end - shard.start)
        rows = split_rows(data)
    elif shard.kind == "parquet":
        rows = _parquet_rows(shard)
    else:
        rows = _sql_rows(shard)
    if len(rows) != shard.rows:
        raise SourceError(f"{shard.source} changed since the plan: shard {shard.index} has {len(rows)} rows, "
                          f"not {shard.rows}; start again in a new output directory")
    return rows


def _parquet_rows(shard: Shard) -> list[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pq.ParquetFile(shard.source)
    groups, offset, skip = [], 0, 0
    for g in range(source.metadata.num_row_groups):  # only the row groups the shard's rows are in
        n = source.metadata.row_group(g).num_rows
        if offset + n > shard.start and offset < shard.end:
            if not groups:
                skip = shard.start - offset
            groups.append(g)
        offset += n
    table = source.read_row_groups(groups) if groups else pa.table({})
    return [_json_row(row) for row in table.slice(skip, shard.end - shard.start).to_pylist()]


def _sql_rows(shard: Shard) -> list[bytes]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from whorf.data.pairs import Pair

    engine = _pair_log(shard.source)
    try:
        with Session(engine) as session:
            query = select(Pair).where(Pair.id >= shard.start, Pair.id < shard.end).order_by(Pair.id)
            return [_json_row({"pair_id": p.id, "text": p.original, "reference": p.compressed, "domain": p.domain,
                               "tool_name": p.tool_name, "query": p.query}) for p in session.scalars(query)]
    finally:
        engine.dispose()


def _json_row(obj: dict[str, Any]) -> bytes:
    # a binary column (text some writers store as bytes, a BLOB) is text for the job: UTF-8, invalid bytes kept
    # and a NaN or infinite float (a missing value in a numeric column) is null, which JSON can hold
    obj = {k: v.decode("utf-8", "surrogateescape") if isinstance(v, (bytes, bytearray))
           else None if isinstance(v, float) and not math.isfinite(v) else v for k, v in obj.items()}
    try:
        return json_line(obj)[:-1]
    except (TypeError, ValueError):  # a date or bytes column (written as text), NaN (stays invalid JSON: passes through)
        return json.dumps(obj, default=str).encode("utf-8")

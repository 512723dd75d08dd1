"""Compressing JSON lines: every row in gives exactly one row out.

Rows are the input's bytes split on ``\\n`` only (U+2028, U+2029 and U+0085 are legal inside JSON
strings, so ``str.splitlines`` would cut rows apart; a ``\\r`` before the ``\\n`` is JSON whitespace).
Each row that is a JSON object with a string field gets ``compressed`` and ``stats``. A row that cannot
be compressed passes through and says why:

- a JSON object gets ``stats`` whose ``passthrough`` holds the reason (and ``compressed`` is its text
  unchanged when it has one): no such field, a lone surrogate, text the compressor failed on;
- any other row (invalid UTF-8, invalid JSON, JSON nested too deep to parse, not an object, blank) is
  written back byte for byte, and the reason comes with its line number in :class:`Row`.

Output rows are written by :func:`whorf.textio.json_line`, so they split back into the same rows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Iterator, Sequence

from whorf import domain as domains
from whorf.config import CompressOptions
from whorf.result import Compressed, Stats
from whorf.textio import decode, json_line

AUTO_FIELDS = ("text", "output", "content")


@dataclass
class Row:
    """One input row and what became of it."""

    number: int  # 1-based line number in the input
    raw: bytes  # the row's bytes, without its "\n"
    obj: dict[str, Any] | None = None  # the parsed object, when the row is one
    field: str | None = None  # the string field compressed
    result: Compressed | None = None
    reason: str | None = None  # why the row passed through (None: compressed)

    def render(self) -> bytes:
        """The output line (newline included)."""
        if self.obj is None:
            return self.raw + b"\n"
        obj = dict(self.obj)
        if self.result is not None:
            obj["compressed"] = self.result.text
            obj["stats"] = asdict(self.result.stats)
        else:
            obj["stats"] = asdict(Stats(passthrough=self.reason))
        try:
            return json_line(obj)
        except (ValueError, RecursionError) as exc:  # NaN, Infinity: JSON cannot hold them
            self.reason = f"cannot be written back as JSON ({type(exc).__name__}: {exc})"
            return self.raw + b"\n"


def split_rows(data: bytes) -> list[bytes]:
    """The rows of a JSON lines input: split on ``\\n`` only; a final ``\\n`` ends the last row."""
    rows = data.split(b"\n")
    if rows[-1] == b"":
        rows.pop()
    return rows


def parse_row(number: int, raw: bytes, field: str = "auto") -> Row:
    """Parse one row; ``field`` names the string field to compress (``auto``: text, output or content)."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Row(number, raw, reason=f"invalid UTF-8 at byte {exc.start}")
    if not line.strip():
        return Row(number, raw, reason="blank line")
    try:
        obj = json.loads(line, parse_constant=_not_json)
    except RecursionError:
        return Row(number, raw, reason="JSON nested too deeply to parse")
    except ValueError as exc:
        return Row(number, raw, reason=f"invalid JSON ({exc})")
    if not isinstance(obj, dict):
        return Row(number, raw, reason=f"not a JSON object but {type(obj).__name__}")
    keys = AUTO_FIELDS if field == "auto" else (field,)
    for key in keys:
        if isinstance(obj.get(key), str):
            return Row(number, raw, obj, key)
    return Row(number, raw, obj, reason=f"no string field {' or '.join(repr(k) for k in keys)}")


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def compress_safely(comp, texts: Sequence[str | bytes], options: CompressOptions,
                    queries: Sequence[str | None] | None = None) -> list[Compressed]:
    """``comp.compress_batch(texts)``, except that a text the compressor fails on passes through
    unchanged with the error as its reason instead of taking the rest of the batch with it."""
    try:
        return comp.compress_batch(list(texts), options, queries=queries)
    except Exception as exc:  # noqa: BLE001 - the boundary that keeps every row; the reason goes into its stats
        if len(texts) == 1:
            return [_failed(comp, texts[0], options, exc)]
        return [compress_safely(comp, [text], options, None if queries is None else [queries[k]])[0]
                for k, text in enumerate(texts)]


def _failed(comp, text: str | bytes, options: CompressOptions, exc: Exception) -> Compressed:
    first = str(exc).splitlines()[0][:200] if str(exc) else ""
    reason = f"compression failed ({type(exc).__name__}{': ' + first if first else ''})"
    if isinstance(text, (bytes, bytearray)):
        text = decode(bytes(text)).text
    words = len(text.split())
    stats = Stats(words=words, words_kept=words, model=comp.model_id, model_trained=comp.config.trained,
                  runtime=comp.runtime.name, override=options.override, passthrough=reason)
    return Compressed(text, [], stats, original=text)


def compress_rows(comp, data: bytes, options: CompressOptions, field: str = "auto", batch: int = 32) -> Iterator[Row]:
    """Compress the rows of a JSON lines input, ``batch`` rows at a time; yields every row, in order."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    domains.check(options.domain)  # a wrong option is an error, not a reason to pass every row through
    rows = split_rows(data)
    for start in range(0, len(rows), batch):
        chunk = [parse_row(start + i + 1, raw, field) for i, raw in enumerate(rows[start:start + batch])]
        todo = [row for row in chunk if row.field is not None]
        # a row's own string "query" field (the agent's intent when it read this output) wins over --query
        queries = [row.obj["query"] if isinstance(row.obj.get("query"), str) else options.query for row in todo]
        for row, result in zip(todo, compress_safely(comp, [row.obj[row.field] for row in todo], options, queries)):
            row.result = result
            row.reason = result.stats.passthrough
        yield from chunk

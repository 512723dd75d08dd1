"""What a batch job does to one shard's rows: one output row per input row, always.

    compress          the ``whorf compress --jsonl`` row: the input object plus ``compressed`` and ``stats``
                      (``stats.ms`` is 0: timing is the job's, in its summary, so that outputs are the same
                      bytes however the job ran); a row that is not a JSON object comes back byte for byte
    label             silver labels, as ``whorf label`` writes them (``tokens``, ``labels``, ``must_keep``,
                      ``domain``), from pairs (text + reference, the pair log's original + compressed)
    selflabel         the model with its must-keep override compresses the text (no structural stage): a
                      training pair ``{"text", "reference", "source": "selflabel"}``, filtered as the
                      self-labeling loop filters
    distill-targets   the teacher model alone on every word: ``tokens`` and ``labels`` (its keep decisions,
                      a training file for ``whorf train``) and ``scores`` (its final scores, the soft targets)

A row that cannot be processed comes back as ``{"line": N, "error": reason}`` (``label``, ``distill-targets``)
or ``{"line": N, "skipped": reason}`` (``selflabel``: too short, compressed too little), with the pair log's
``pair_id`` when it had one; N is the row's 1-based number in its source file. Training readers skip them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from whorf.batch.config import BatchConfig
from whorf.batch.shards import Shard
from whorf.textio import json_line


@dataclass
class Counts:
    """What a shard's rows became."""

    rows: int = 0
    passed: int = 0  # rows that came back unchanged or as an error/skipped row
    tokens_in: int = 0
    tokens_out: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def note(self, reason: str) -> None:
        self.passed += 1
        key = reason.split(" (")[0][:80]
        self.reasons[key] = self.reasons.get(key, 0) + 1

    def add(self, other: Counts) -> None:
        self.rows += other.rows
        self.passed += other.passed
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        for k, v in other.reasons.items():
            self.reasons[k] = self.reasons.get(k, 0) + v


def make_compressor(cfg: BatchConfig):
    from whorf.compressor import Compressor

    return Compressor(cfg.model, runtime=cfg.runtime, threads=cfg.threads)


class Operation:
    """One loaded model and what the job does with it; ``process`` maps a shard's rows to output lines."""

    def __init__(self, cfg: BatchConfig):
        self.cfg = cfg
        self.comp = make_compressor(cfg)

    def process(self, rows: list[bytes], shard: Shard) -> tuple[list[bytes], Counts]:
        raise NotImplementedError

    def _scored(self, rows: list[bytes], shard: Shard, key: str, override: bool) -> tuple[list[bytes], Counts, list]:
        """The word model (with or without the override, no structural stage) on every row's text: output
        placeholders, counts, and ((place, line number, object), result) for the rows with a text; the
        others are already ``key`` rows."""
        from whorf.config import CompressOptions
        from whorf.jsonl import compress_safely

        counts, out = Counts(), []
        texts, todo = _texts(rows, shard, out, counts, key)
        results = compress_safely(self.comp, texts, CompressOptions(override=override, structure=False, store=False))
        return out, counts, list(zip(todo, results))


class Compress(Operation):
    def process(self, rows: list[bytes], shard: Shard) -> tuple[list[bytes], Counts]:
        from whorf.jsonl import compress_rows

        counts, out = Counts(), []
        data = b"".join(row + b"\n" for row in rows)
        for row in compress_rows(self.comp, data, self.cfg.options(), self.cfg.field, self.cfg.batch):
            if row.result is not None:
                row.result.stats.ms = 0.0
                counts.tokens_in += row.result.stats.tokens_in
                counts.tokens_out += row.result.stats.tokens_out
            out.append(row.render())
            if row.reason:
                counts.note(row.reason)
            counts.rows += 1
        return out, counts


class Label(Operation):
    """Silver labels need no model: the rule and the profile decide (both checked before any row)."""

    def __init__(self, cfg: BatchConfig):
        from whorf.data.labels import check_rule
        from whorf.patterns import load_profile

        check_rule(cfg.rule)
        load_profile(cfg.profile)
        self.cfg = cfg

    def process(self, rows: list[bytes], shard: Shard) -> tuple[list[bytes], Counts]:
        from whorf.data import parse
        from whorf.data.labelled import label_row

        counts, out = Counts(), []
        for i, raw in enumerate(rows):
            number = shard.first_row + i + 1
            obj = _object(raw)
            try:
                if isinstance(obj, str):
                    raise ValueError(obj)
                item = label_row(parse(obj), self.cfg.rule, self.cfg.profile)
            except (ValueError, TypeError, OverflowError, KeyError, AttributeError) as exc:  # any bad field: its row says so
                out.append(_error(number, obj, "error", f"{exc}" if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}", counts))
                continue
            record = {"tokens": item.words, "labels": item.labels.keep, "must_keep": [int(m) for m in item.labels.must],
                      "domain": item.domain, "source": item.row.source, "line": number}
            out.append(_line(record, number, obj, counts, "error"))
        return out, counts


class SelfLabel(Operation):
    def process(self, rows: list[bytes], shard: Shard) -> tuple[list[bytes], Counts]:
        from whorf.loop.selflabel import rejected

        out, counts, scored = self._scored(rows, shard, "skipped", override=True)
        for (k, number, obj), res in scored:
            text = obj["text"]
            reason = rejected(text, res.text, res.stats.passthrough, self.cfg.min_chars, self.cfg.min_ratio)
            if reason:
                out[k] = _error(number, obj, "skipped", reason, counts)
                continue
            record = {"text": text, "reference": res.text, "domain": res.stats.domain, "source": "selflabel",
                      "line": number}
            out[k] = _line(record, number, obj, counts, "skipped")
            counts.tokens_in += res.stats.tokens_in
            counts.tokens_out += res.stats.tokens_out
        return out, counts


class DistillTargets(Operation):
    def process(self, rows: list[bytes], shard: Shard) -> tuple[list[bytes], Counts]:
        out, counts, scored = self._scored(rows, shard, "error", override=False)
        for (k, number, obj), res in scored:
            if res.stats.passthrough or not res.words:
                out[k] = _error(number, obj, "error", res.stats.passthrough or "no words", counts)
                continue
            record = {"tokens": [w.text for w in res.words], "labels": [int(w.kept) for w in res.words],
                      "scores": [round(float(w.score), 5) for w in res.words], "domain": res.stats.domain,
                      "source": "distill", "teacher": self.comp.model_id, "line": number}
            out[k] = _line(record, number, obj, counts, "error")
        return out, counts


OPERATIONS: dict[str, type[Operation]] = {
    "compress": Compress, "label": Label, "selflabel": SelfLabel, "distill-targets": DistillTargets,
}


def _object(raw: bytes) -> dict | str:
    """The row's JSON object, or why it is not one."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at byte {exc.start}"
    except RecursionError:
        return "JSON nested too deeply to parse"
    except ValueError as exc:
        return f"invalid JSON ({exc})" if raw.strip() else "blank line"
    return obj if isinstance(obj, dict) else f"not a JSON object but {type(obj).__name__}"


def _texts(rows: list[bytes], shard: Shard, out: list, counts: Counts, key: str) -> tuple[list[str], list[tuple]]:
    """The rows with a non-empty string ``text`` (output placeholders for them); the others become
    error rows in ``out`` now."""
    texts, todo = [], []
    for i, raw in enumerate(rows):
        number, obj = shard.first_row + i + 1, _object(raw)
        text = obj.get("text", obj.get("output")) if isinstance(obj, dict) else None
        if not isinstance(text, str) or not text.strip():
            reason = obj if isinstance(obj, str) else "no non-empty string field 'text' or 'output'"
            out.append(_error(number, obj, key, reason, counts))
            continue
        obj = {**obj, "text": text}
        todo.append((len(out), number, obj))
        out.append(b"")
        texts.append(text)
    return texts, todo


def _with_id(record: dict[str, Any], obj: Any) -> dict[str, Any]:
    """The record with the row's ``pair_id`` (an integer or a string; anything else is left out)."""
    pair_id = obj.get("pair_id") if isinstance(obj, dict) else None
    if isinstance(pair_id, (int, str)) and not isinstance(pair_id, bool):
        record["pair_id"] = pair_id
    return record


def _line(record: dict[str, Any], number: int, obj: Any, counts: Counts, key: str) -> bytes:
    """The record as a JSON line, or an error row when JSON cannot hold it."""
    try:
        line = json_line(_with_id(record, obj))
    except (ValueError, TypeError) as exc:
        return _error(number, obj, key, f"cannot be written as JSON ({exc})", counts)
    counts.rows += 1
    return line


def _error(number: int, obj: Any, key: str, reason: str, counts: Counts) -> bytes:
    counts.rows += 1
    counts.note(reason)
    return json_line(_with_id({"line": number, key: reason}, obj))

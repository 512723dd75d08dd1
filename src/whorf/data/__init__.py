"""Data shared by training, evaluation and the loop (neutral: imports neither ``whorf.train`` nor
``whorf.eval``): loaders for every data format, all producing ``Row``s with a per-file report, and the
fixed train / validation / held-out split.

Accepted JSONL rows (detected per row by their fields):

- pairs ``{text, reference}`` (ultrawhale export, ``whorf pairs export``), ``{original, compressed}``
- raw ``{deepseek_response, free_response}`` (``deepseek_response`` is compressed, ``free_response``
  is the reference)
- span labels ``{text, spans: [{start, end}, ...]}``
- word labels ``{tokens: [...], labels: [0/1, ...]}`` (tokens are words: no whitespace inside)
- unlabelled ``{text}``, ``{output}`` or ``{prompt, text}`` (for self-labeling, a teacher, or metrics)

A bad line (broken JSON, missing field, empty text or reference, wrong types) is skipped and reported
with its line number; loading never stops halfway.

Split. Every row falls in one of three parts by a hash of its text (stable across files, runs and
machines): ``held-out`` (the first ``held_out_pct`` of 100 buckets: reported, never trained on or used
to choose anything), ``validation`` (the next ``validation_pct`` buckets: chooses the best epoch and
calibrates thresholds) and ``train`` (the rest).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from whorf import domain as domains

KINDS = ("pair", "spans", "labels", "unlabelled")
TRAIN, VALIDATION, HELD_OUT = "train", "validation", "held-out"
SPLITS = (TRAIN, VALIDATION, HELD_OUT)


@dataclass
class Row:
    text: str
    kind: str
    reference: str | None = None
    spans: list[dict] | None = None
    word_labels: list[int] | None = None
    domain: str | None = None
    source: str | None = None
    prompt: str | None = None
    file: str = ""
    line: int = 0

    @property
    def key(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8", "surrogateescape")).hexdigest()

    @property
    def bucket(self) -> int:
        """0..99 from a hash of the text: the split is a function of the text alone."""
        return int(self.key[:8], 16) % 100

    def held_out(self, percent: int = 10) -> bool:
        """The fixed held-out split: ``percent`` % of rows, chosen by a hash of the text."""
        return self.bucket < percent

    def split(self, held_out_pct: int = 10, validation_pct: int = 10) -> str:
        """``held-out``, ``validation`` or ``train`` (see the module docstring)."""
        if self.bucket < held_out_pct:
            return HELD_OUT
        return VALIDATION if self.bucket < held_out_pct + validation_pct else TRAIN


@dataclass
class FileReport:
    path: str
    lines: int = 0
    rows: int = 0
    kinds: Counter = field(default_factory=Counter)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    sha256: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "lines": self.lines,
            "rows": self.rows,
            "kinds": dict(self.kinds),
            "skipped": len(self.skipped),
            "skipped_lines": [{"line": n, "reason": r} for n, r in self.skipped[:20]],
        }


class RowError(ValueError):
    pass


def parse(obj: Any) -> Row:
    """One JSON object to a Row; RowError says what is wrong with it."""
    if not isinstance(obj, dict):
        raise RowError(f"not a JSON object but {type(obj).__name__}")
    meta = dict(
        domain=domains.from_data(_str(obj, "domain"), _str(obj, "source"), _str(obj, "topic"), _str(obj, "tool")),
        source=_str(obj, "source"),
        prompt=_str(obj, "prompt") or _str(obj, "user_message") or _str(obj, "scenario") or _str(obj, "topic"),
    )
    if "tokens" in obj or "labels" in obj:
        tokens, labels = obj.get("tokens"), obj.get("labels")
        if not isinstance(tokens, list) or not isinstance(labels, list) or len(tokens) != len(labels):
            raise RowError("tokens and labels must be lists of the same length")
        if any(not isinstance(t, str) or not t or any(c.isspace() for c in t) for t in tokens):
            raise RowError("every token must be a non-empty string without whitespace")
        return Row(" ".join(tokens), "labels", word_labels=[int(bool(x)) for x in labels], **meta)
    if "deepseek_response" in obj or "free_response" in obj:
        return _pair(obj, "deepseek_response", "free_response", meta)
    if "original" in obj or "compressed" in obj:  # a pair-log export, or a compress --jsonl row (text + compressed)
        return _pair(obj, "original" if "original" in obj or "text" not in obj else "text", "compressed", meta)
    text = obj.get("text", obj.get("output"))
    if not isinstance(text, str):
        raise RowError("missing field: text (or output, deepseek_response, original, tokens)")
    if not text.strip():
        raise RowError("empty text")
    if "spans" in obj:
        spans = obj["spans"]
        if not isinstance(spans, list) or any(not isinstance(s, dict) or "start" not in s or "end" not in s for s in spans):
            raise RowError("spans must be a list of {start, end}")
        return Row(text, "spans", spans=spans, **meta)
    if "reference" in obj:
        return _pair(obj, "text", "reference", meta)
    return Row(text, "unlabelled", **meta)


def _pair(obj: dict, text_key: str, ref_key: str, meta: dict) -> Row:
    text, ref = obj.get(text_key), obj.get(ref_key)
    if not isinstance(text, str) or not text.strip():
        raise RowError(f"missing or empty {text_key}")
    if not isinstance(ref, str) or not ref.strip():
        raise RowError(f"missing or empty {ref_key}")
    return Row(text, "pair", reference=ref, **meta)


def _str(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def read(path: str | Path) -> tuple[list[Row], FileReport]:
    """All valid rows of one JSONL file and the report of what was skipped and why."""
    path = Path(path)
    report = FileReport(str(path))
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    data = path.read_bytes()
    report.sha256 = hashlib.sha256(data).hexdigest()
    rows: list[Row] = []
    for number, line in _lines(data):
        report.lines += 1
        try:
            row = parse(json.loads(line))
        except (ValueError, RowError) as exc:
            report.skipped.append((number, str(exc).splitlines()[0][:200]))
            continue
        row.file, row.line = str(path), number
        rows.append(row)
        report.kinds[row.kind] += 1
    report.rows = len(rows)
    return rows, report


def _lines(data: bytes) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if raw.strip():
            yield number, raw.decode("utf-8", errors="replace")


def read_all(paths: list[str | Path]) -> tuple[list[Row], list[FileReport]]:
    rows: list[Row] = []
    reports: list[FileReport] = []
    for p in paths:
        r, rep = read(p)
        rows.extend(r)
        reports.append(rep)
    return rows, reports


def split_rows(rows: list[Row], held_out_pct: int = 10, validation_pct: int = 10) -> dict[str, list[Row]]:
    """The rows of each split, in input order."""
    parts: dict[str, list[Row]] = {name: [] for name in SPLITS}
    for r in rows:
        parts[r.split(held_out_pct, validation_pct)].append(r)
    return parts


def sample_per_file(rows: list[Row], cap: int) -> list[Row]:
    """At most ``cap`` rows per file, chosen by text hash (the same rows every time)."""
    by_file: dict[str, list[Row]] = {}
    for r in sorted(rows, key=lambda r: r.key):
        by_file.setdefault(r.file, []).append(r)
    return [r for part in by_file.values() for r in part[:cap]]


def cap_per_file(rows: list[Row], cap: int, held_out_pct: int = 10, validation_pct: int = 10) -> list[Row]:
    """At most ``cap`` training rows per file (chosen by text hash), keeping every validation and
    held-out row."""
    train = [r for r in rows if r.split(held_out_pct, validation_pct) == TRAIN]
    return sample_per_file(train, cap) + [r for r in rows if r.split(held_out_pct, validation_pct) != TRAIN]


def is_heretic(path: str | Path, rows: list[Row] | None = None) -> bool:
    """A heretic set (dense must-keep prompts, evaluation only, never split): named ``*heretic*`` or
    whose first rows come from a ``heretic*`` source."""
    return "heretic" in Path(path).name.lower() or any((r.source or "").startswith("heretic") for r in (rows or [])[:5])


def split_heretic(paths: list[str]) -> tuple[list[str], list[str]]:
    """(standard files, heretic files) by name."""
    heretic = [p for p in paths if is_heretic(p)]
    return [p for p in paths if p not in heretic], heretic

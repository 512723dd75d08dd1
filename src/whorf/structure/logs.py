"""Logs: every error/warning line, the first and last lines and every line that says something new stay;
a line that repeats an earlier one except for counters, timestamps, durations, ids and sizes is omitted,
each run of them behind one marker that says what varied (``repeat.py``). Logs whose lines begin with a
file name (``nova-api.log.1 2017-05-16 ...``, ``grep -H`` over log files) are logs, not search results.
"""

from __future__ import annotations

import re

from whorf.doc import Doc
from whorf.lexicon import LEVEL, TIMESTAMP
from whorf.structure import budget as B
from whorf.structure import lines as L
from whorf.structure import repeat
from whorf.structure.plan import Note, Plan

# A line is important (always kept) when its level says warning or worse, or it reports an exception.
# (Each unanchored alternative sits behind a lookahead on its first letters: the search skips most positions
# of a line at once, a third of the time on long logs.)
SEVERE_WORD = re.compile(
    r"\b(?=[ACEFPSWL])(?:(ERROR|ERR|WARN|WARNING|FATAL|CRITICAL|CRIT|SEVERE|ALERT|EMERG|PANIC)\b"
    r"|level=\"?(error|warn|warning|fatal|critical)\b)",
    re.IGNORECASE,
)
EXCEPTION = re.compile(
    r"^\s*(?:Traceback \(most recent call last\)|Caused by:|Exception in thread\b)"
    r"|(?=[EpSc\"])(?:(?:Error|Exception)(?::|$)"  # ValueError:, a.b.CustomException at the end
    r"|\bpanicked at\b|\bSegmentation fault\b|\bcore dumped\b"
    r'|"(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) [^"]*" [45]\d\d\b|\bcode [45]\d\d\b)'  # HTTP errors in access logs
)
LEVELS = {
    "v": 0, "verbose": 0, "trace": 0, "d": 0, "debug": 0, "i": 1, "info": 1, "information": 1, "notice": 1,
    "w": 2, "warn": 2, "warning": 2, "e": 3, "err": 3, "error": 3, "f": 4, "fatal": 4, "crit": 4,
    "critical": 4, "severe": 3, "alert": 4, "emerg": 4, "panic": 4,
}
MIN_LINES = 8  # shorter logs pass through
_PREFIX = re.compile(r"^\S+?(?:: ?| )(?=\S)")  # a file name before the log line (awk FILENAME, grep -H)


def prefixed(lines: list[str]) -> bool:
    """Most lines are log lines (a timestamp or a level) after a leading file name."""

    content = [ln for ln in lines if ln.strip()]
    hits = 0
    for ln in content:
        m = _PREFIX.match(ln)
        rest = ln[m.end():] if m else ""
        hits += bool(rest and (TIMESTAMP.match(rest) or LEVEL.search(rest[:200])))
    return bool(content) and hits >= 0.6 * len(content)


def level_column(lines: list[str]) -> int | None:
    """The index of the whitespace-separated field that holds a level on most lines, if one does."""
    sample = [ln.split(None, 8)[:8] for ln in lines[:200] if ln.strip()]
    if not sample:
        return None
    for col in range(8):
        levels = [LEVELS.get(f[col].strip("[]:,<>").lower()) for f in sample if len(f) > col]
        known = [lv for lv in levels if lv is not None]
        # a level column holds levels on most lines, and not only severe ones (a state field that reads
        # "error" on every line is not a level)
        if len(known) >= 0.6 * len(sample) and min(known) < 2:
            return col
    return None


def important(line: str, column: int | None = None) -> bool:
    line = line[:2000]
    if EXCEPTION.search(line):
        return True
    if column is not None:
        fields = line.split(None, column + 1)
        if len(fields) > column:
            level = LEVELS.get(fields[column].strip("[]:,<>").lower())
            if level is not None:
                return level >= 2
    # a severity word written as a level (ERROR, [WARN], level=error), not a word of the message
    return any(m.group(0).isupper() or m.group(0).lower().startswith("level=") for m in SEVERE_WORD.finditer(line))


def plan(source: str | Doc, budget_chars: int | None = None, query: str | None = None) -> Plan:
    """Lines that truly repeat an earlier one (only counters, times, ids, sizes differ) collapse; error and
    warning lines, the first and last lines and every line with a name of its own stay, unless the budget
    needs room (then plain lines go first, from the middle)."""
    doc = Doc.of(source)
    text, lines = doc.text, doc.lines
    if len(lines) < MIN_LINES:
        return _short(text, lines, budget_chars, query)
    texts = [ln.text for ln in lines]
    again = repeat.repeats(texts)
    column = level_column(texts)
    keep, priority, notes = [], [], []
    last = len(lines) - 1
    firsts = _first_of_templates(texts) if budget_chars is not None and len(text) > budget_chars else set()
    for i, (line, rep) in enumerate(zip(texts, again)):
        severe = bool(line.strip()) and important(line, column)
        if severe:
            notes.append(Note(i, "kept", "error or warning line"))
        keep.append(bool(line.strip()) and (severe or not rep or i in (0, last)))
        # over the budget, the first line of each message template (drain3) outlasts later variants of it
        priority.append(B.MUST if severe or i in (0, last) else 2 if i in firsts else 1)
    return L.decide(text, lines, keep, priority, "log", budget_chars, notes=notes, query=query)


def _first_of_templates(texts: list[str]) -> set[int]:
    from whorf.structure import templates

    seen: set[int] = set()
    firsts: set[int] = set()
    for i, t in enumerate(templates.cluster(texts)):
        if t and t not in seen:
            firsts.add(i)
            seen.add(t)
    return firsts


def _short(text: str, lines: list[L.Line], budget_chars: int | None, query: str | None) -> Plan:
    if budget_chars is None or len(text) <= budget_chars or not lines:
        return Plan("log", [L.Piece(0, len(text), "keep")] if text else [])
    keep = [True] * len(lines)
    priority = [B.MUST if i in (0, len(lines) - 1) else 1 for i in range(len(lines))]
    return L.decide(text, lines, keep, priority, "log", budget_chars, query=query)

"""Logs: keep the first line of every template, every error/warning line, and the first and last lines;
every other line repeats a template already shown and is omitted, each run of them behind one marker.
"""

from __future__ import annotations

import re

from whorf.structure import lines as L
from whorf.structure import templates
from whorf.structure.plan import Note, Plan

# A line is important (always kept) when its level says warning or worse, or it reports an exception.
SEVERE_WORD = re.compile(
    r"\b(ERROR|ERR|WARN|WARNING|FATAL|CRITICAL|CRIT|SEVERE|ALERT|EMERG|PANIC)\b|\blevel=\"?(error|warn|warning|fatal|critical)\b",
    re.IGNORECASE,
)
EXCEPTION = re.compile(
    r"^\s*Traceback \(most recent call last\)|^\s*Caused by:|\b[\w.]*(Error|Exception)(:|$)|\bpanicked at\b"
    r"|\bSegmentation fault\b|\bcore dumped\b|^\s*Exception in thread\b"
    r'|"(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) [^"]*" [45]\d\d\b|\bcode [45]\d\d\b'  # HTTP errors in access logs
)
LEVELS = {
    "v": 0, "verbose": 0, "trace": 0, "d": 0, "debug": 0, "i": 1, "info": 1, "information": 1, "notice": 1,
    "w": 2, "warn": 2, "warning": 2, "e": 3, "err": 3, "error": 3, "f": 4, "fatal": 4, "crit": 4,
    "critical": 4, "severe": 3, "alert": 4, "emerg": 4, "panic": 4,
}
MIN_LINES = 8  # shorter logs pass through


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


def plan(text: str) -> Plan:
    lines = L.split(text)
    if len(lines) < MIN_LINES:
        return Plan("log", [L.Piece(0, len(text), "keep")] if text else [])
    ids = templates.cluster([ln.text for ln in lines])
    keep, notes = decide(lines, ids)
    members: dict[int, list[int]] = {}
    for i, t in enumerate(ids):
        members.setdefault(t, []).append(i)

    def describe(run):
        groups = {ids[i] for i in run}
        if len(groups) == 1:
            group = members[ids[run[0]]]
            return "line", "similar", templates.varying([lines[i].text for i in group])
        return "line", "similar", None

    return L.merge(L.collapse(text, lines, keep, "log", describe, notes))


def decide(lines: list[L.Line], ids: list[int]) -> tuple[list[bool], list[Note]]:
    seen: set[int] = set()
    keep: list[bool] = []
    notes: list[Note] = []
    last = len(lines) - 1
    column = level_column([ln.text for ln in lines])
    for i, (line, t) in enumerate(zip(lines, ids)):
        if not line.text.strip():
            keep.append(False)
            continue
        if important(line.text, column):
            keep.append(True)
            notes.append(Note(i, "kept", "error or warning line"))
        elif t not in seen or i in (0, last):
            keep.append(True)
        else:
            keep.append(False)
        seen.add(t)
    return keep, notes

"""True repetition: which lines repeat an earlier line except for counters, timestamps, durations, ids and sizes.

A line's *repetition key* is the line with every variable token masked: a token is variable when it is a
number, a time or date, a duration or size (``12ms``, ``4.2K``, ``3%``), a hex id of seven or more
characters, a UUID, an IP address, or a short prefix glued to a number (``blk_-1608``, ``req-8f3a...``)
unless the prefix is an upper-case code (``INV-2291``, ``CVE-2024-3094``: the name of a row's subject).
Anything with other letters is a name (``module_07.py``, ``nightly-export-041``, ``requests``): two lines
that differ by a name are two entities, never a repetition. Only lines whose keys are equal may collapse
behind a marker, and the marker says what varied (a numeric range or how many distinct values).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence
from whorf.lexicon import IPV4, UUID

_NUM = r"[-+]?\d+(?:[-.,:/_]\d+)*"
_VARIABLE = re.compile(
    r"^(?:"
    rf"{_NUM}(?:[a-zA-Zµ]{{1,3}}|%)?"  # 42, 3.5, 12:04:33, 2017-05-16, 12ms, 4.2K, 99%
    r"|0x[0-9a-fA-F]+"
    r"|(?=[0-9a-f]*\d)[0-9a-f]{7,}"  # commit-like and request ids (a digit somewhere)
    rf"|{UUID}"
    rf"|{IPV4}"
    # blk_-1608..., req-8f3a..., pid-12; not an upper-case code (INV-2291, CVE-2024-3094, JIRA-81): a name
    r"|(?![A-Z]{2})[A-Za-z]{1,4}[_-]-?(?=[0-9a-f-]*\d)[0-9a-fA-F-]{1,40}"
    r"|\d+(?:[.:]\d+)*[-T_]\d+(?:[.:,]\d+)*Z?"  # 2017-05-16_13:53:08, 2024-01-01T10:00:00
    r")$"
)
_CODE = re.compile(r"^\d{1,3}$")
_SPACES = re.compile(r"(?<=\S) {2,}(?=\S)")  # alignment padding between two tokens (not the indentation)
_TOKEN = re.compile(r"[^\s\[\]()<>{}\"',;=|]+")
CATEGORIES = 5  # a column with at most this many values is a category (status, level)
MAX_KEY_LINE = 2000  # characters of a line the key reads (linear time on any line)


def variable(token: str) -> bool:
    return bool(_VARIABLE.match(token))


@lru_cache(maxsize=1 << 16)
def key(line: str) -> str:
    """The line with its variable tokens masked (``#``) and its runs of spaces as one (padding that moves
    with a value's width: ``test_x[9] PASSED      [ 19%]``, ``test_x[10] PASSED     [ 19%]``); equal keys
    mean the lines repeat one template. (Cached: the modules ask for the same line's key several times.)"""
    head = _SPACES.sub(" ", line[:MAX_KEY_LINE])
    return _TOKEN.sub(lambda m: "#" if variable(m.group()) else m.group(), head) + line[MAX_KEY_LINE:]


def repeats(lines: Sequence[str]) -> list[bool]:
    """True for each non-blank line that may collapse: its key an earlier line already had, and none of its
    values is the first or a rare one in a column with few values (a 404 among 200s, a WARN among INFOs)."""
    groups: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        if line.strip():
            groups.setdefault(key(line), []).append(i)
    out = [False] * len(lines)
    rare = _rare_codes(lines)
    for members in groups.values():
        for i in members[1:]:
            out[i] = True
        if len(members) > 2:
            for i in _categorical_outliers([lines[i] for i in members], members):
                out[i] = False
    for i in rare:
        out[i] = False
    return out


def _rare_codes(lines: Sequence[str]) -> set[int]:
    """Lines holding a rare code over the whole output: a small integer after the same word (``status: 202``
    three times among three hundred ``status: 200``), wherever its template is."""
    seen: dict[str, dict[str, list[int]]] = {}
    for i, line in enumerate(lines):
        tokens = _TOKEN.findall(line[:MAX_KEY_LINE])
        for before, token in zip(tokens, tokens[1:]):
            if _CODE.match(token) and not variable(before):
                seen.setdefault(before, {}).setdefault(token, []).append(i)
    out: set[int] = set()
    for values in seen.values():
        total = sum(len(v) for v in values.values())
        if 2 <= len(values) <= CATEGORIES:
            for where in values.values():
                if len(where) <= max(2, total // 20):
                    out.update(where)
    return out


def _categorical_outliers(texts: list[str], members: list[int]) -> list[int]:
    """Lines whose value in a column of few distinct values is that value's first or a rare occurrence."""
    split = [_TOKEN.findall(t[:MAX_KEY_LINE]) for t in texts]
    if len({len(s) for s in split}) != 1:
        return []
    n, keep = len(texts), set()
    for column in zip(*split):
        counts: dict[str, int] = {}
        for v in column:
            counts[v] = counts.get(v, 0) + 1
        # a category: few small integers, each seen several times (HTTP statuses, exit codes), not a
        # counter, a time or a duration
        if not 2 <= len(counts) <= min(CATEGORIES, n / 3) or not all(_CODE.match(v) for v in counts):
            continue
        seen: set[str] = set()
        for pos, v in enumerate(column):
            if v not in seen or counts[v] <= max(2, n // 10):
                keep.add(members[pos])
            seen.add(v)
    return sorted(keep)


def varying(lines: Sequence[str], limit: int = 2) -> list[str] | None:
    """What varies across lines of one key: per position a numeric range (``1201..1240``) or a count of
    distinct values (``34 distinct``); None when the lines do not split into the same tokens."""
    split = [_TOKEN.findall(ln[:MAX_KEY_LINE]) for ln in lines]
    if len({len(s) for s in split}) != 1:
        return None
    out: list[str] = []
    for column in zip(*split):
        distinct = list(dict.fromkeys(column))
        if len(distinct) < 2:
            continue
        out.append(_describe(distinct))
        if len(out) >= limit:
            break
    return out or None


def _describe(values: list[str]) -> str:
    """``lo..hi`` for numbers (a shared unit kept: ``1ms..9ms``) and same-shaped times, else a count."""
    unit = re.sub(r"^[-+]?[\d.]+", "", values[0])
    try:
        nums = [float(v[: len(v) - len(unit)] if unit and v.endswith(unit) else v) for v in values]
    except ValueError:
        shapes = {re.sub(r"\d", "0", v) for v in values}
        if len(shapes) == 1 and _VARIABLE.match(values[0]):  # times and dates of one format
            return _span(min(values), max(values))
        return f"{len(values)} distinct"
    fmt = (lambda x: str(int(x))) if all(n.is_integer() for n in nums) else (lambda x: f"{x:g}")
    return f"{fmt(min(nums))}..{fmt(max(nums))}{unit}"


def _span(low: str, high: str) -> str:
    """``low..high`` with the fields ``high`` shares with ``low`` left out: ``14:02:20..25``."""
    cut = 0
    for i, (a, b) in enumerate(zip(low, high)):
        if a != b:
            break
        if not a.isdigit():
            cut = i + 1
    return f"{low}..{high[cut:]}"

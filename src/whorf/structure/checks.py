"""Structural checks a reader relies on, as functions of (input, output): each returns a list of problems
(empty when the check passes). Used by the tests, the real-program corpus and the eval.

- ``line_atomic``: every output line is a whole input line or a marker line, in input order.
- ``json``: the output parses, has the input's top-level type, every object keeps all its keys, and the
  kept items plus the markers' counts add up to each input array's length.
- ``header``: the first non-empty input line (a table's header) is in the output.
- ``diff_lines``: every file header, ``@@`` line and ``+``/``-`` line of a diff survives.
- ``headlines``: every compiler diagnostic headline (``error...:``/``warning...:`` lines) survives.
- ``subsequence``: with markers removed, the output's words are a subsequence of the input's.
- ``verbatim``: every output line is an input line byte for byte (trailing whitespace aside) or a marker.
- ``fences``: every fenced code block of the input (```` ``` ```` or ``~~~``) is in the output whole.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from whorf.structure.markers import JSON_KEY, MARKER_LINE, strip_markers
from whorf.lexicon import FENCE

_HEADLINE = re.compile(r"(^|: )(error|warning)(\[\w+\])?: ")


def line_atomic(src: str, out: str) -> list[str]:
    lines = src.splitlines()
    i = 0
    for k, line in enumerate(out.splitlines()):
        if MARKER_LINE.match(line):
            continue
        while i < len(lines) and lines[i] != line:
            i += 1
        if i == len(lines):
            return [f"output line {k + 1} is not a whole input line in order: {line[:80]!r}"]
        i += 1
    return []


def _altered(src: str, out: str) -> list[str]:
    """Output lines that are neither an input line (trailing whitespace aside) nor a marker."""
    lines = {ln.rstrip() for ln in src.splitlines()}
    return [ln for ln in out.splitlines() if not MARKER_LINE.match(ln) and ln.rstrip() not in lines]


def verbatim(src: str, out: str) -> list[str]:
    return [f"altered line: {ln[:80]!r}" for ln in _altered(src, out)[:5]]


def altered_lines(src: str, out: str) -> int:
    return len(_altered(src, out))


def fences(src: str, out: str) -> list[str]:
    problems = []
    for block in fenced_blocks(src):
        if block not in out:
            problems.append(f"fenced block changed: {block.splitlines()[0][:60]!r}")
    return problems


def fenced_blocks(text: str) -> list[str]:
    """Each fenced code block of ``text``, fences included."""
    blocks, current, fence = [], [], None
    for line in text.splitlines(keepends=True):
        m = FENCE.match(line)
        if fence is None and m:
            fence, current = m.group(1), [line]
        elif fence is not None:
            current.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                blocks.append("".join(current).rstrip("\n"))
                fence = None
    return blocks


def json_shape(src: str, out: str) -> list[str]:
    from whorf.structure.jsondoc import decode

    try:
        a, b = json.loads(src), decode(json.loads(out))
    except (ValueError, RecursionError) as exc:
        return [f"not JSON: {exc}"]
    problems: list[str] = []
    if type(a) is not type(b):
        problems.append(f"top-level type changed: {type(a).__name__} -> {type(b).__name__}")
    else:
        _walk(a, b, "$", problems)
    return problems


def _walk(a: Any, b: Any, path: str, problems: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            problems.append(f"{path}: keys changed {sorted(set(a) ^ set(b))[:5]}")
            return
        for k in a:
            _walk(a[k], b[k], f"{path}.{k}", problems)
    elif isinstance(a, list) and isinstance(b, list):
        i = 0
        for item in b:
            if isinstance(item, dict) and JSON_KEY in item:
                i += int(item[JSON_KEY])
                continue
            if i >= len(a):
                problems.append(f"{path}: more items than the input")
                return
            _walk(a[i], item, f"{path}[{i}]", problems)
            i += 1
        if i != len(a):
            problems.append(f"{path}: kept items and marker counts give {i}, the input has {len(a)}")
    elif a != b and not (isinstance(a, str) and isinstance(b, str)):
        problems.append(f"{path}: value changed")


def header(src: str, out: str) -> list[str]:
    first = next((ln for ln in src.splitlines() if ln.strip()), "")
    return [] if first in out.splitlines() else [f"header line lost: {first[:80]!r}"]


def diff_lines(src: str, out: str) -> list[str]:
    kept = set(out.splitlines())
    lost = [ln for ln in src.splitlines() if ln.startswith(("+", "-", "@@", "diff ", "index ")) and ln not in kept]
    return [f"diff line lost: {ln[:80]!r}" for ln in lost[:5]]


def headlines(src: str, out: str) -> list[str]:
    kept = set(out.splitlines())
    lost = [ln for ln in src.splitlines() if _HEADLINE.search(ln) and ln not in kept]
    return [f"headline lost: {ln[:80]!r}" for ln in lost[:5]]


def subsequence(src: str, out: str) -> list[str]:
    """With markers removed, the output's words are a subsequence of the input's. Words made only of JSON
    punctuation are skipped: a marker element between ``}`` and ``]`` of compact JSON leaves them apart."""
    words = iter(src.split())
    for w in strip_markers(out).split():
        if set(w) <= set("[]{},:"):
            continue
        if not any(w == x for x in words):
            return [f"output word {w[:40]!r} is not in order in the input"]
    return []


CHECKS: dict[str, Callable[[str, str], list[str]]] = {
    "line_atomic": line_atomic, "json": json_shape, "header": header, "diff_lines": diff_lines,
    "headlines": headlines, "subsequence": subsequence, "verbatim": verbatim, "fences": fences,
}


def run(names: list[str], src: str, out: str) -> dict[str, list[str]]:
    """Problems per check name."""
    return {name: CHECKS[name](src, out) for name in names}

"""Domain detection: which dialect of compression an input needs (diff, log, json, tree, code, text).

The detector is a handful of cheap line statistics, run on the first 200 lines. The model sees the
domain as a short prefix word at the start of every window (the seed's ``LOG:``/``CODE:`` tokens).
"""

from __future__ import annotations

import json
import re

DOMAINS = ("diff", "log", "json", "tree", "code", "text")

PREFIXES = {
    "diff": "DIFF:",
    "log": "LOG:",
    "json": "JSON:",
    "tree": "TREE:",
    "code": "CODE:",
    "text": "TEXT:",
}

# Map the domain/source/topic fields found in training data onto whorf's domains.
DATA_ALIASES = {
    "code_diff": "diff", "diff": "diff", "write_file": "diff",
    "log_stream": "log", "log": "log", "error_trace": "log", "agent_error": "log",
    "bash_output": "tree", "tree": "tree", "file_listing": "tree",
    "json_tool_output": "json", "json_tool_result": "json", "json": "json",
    "file_read": "code", "code": "code", "search_result": "code",
    "text": "text", "openorca": "text", "dolly": "text", "alpaca_gpt4": "text",
}

_TIMESTAMP = re.compile(r"^\s*\[?\d{2,4}[-/:]\d{2}[-/:]\d{2}|^\s*\[?\d{2}:\d{2}:\d{2}")
_LEVEL = re.compile(r"\b(ERROR|WARN|WARNING|INFO|DEBUG|TRACE|FATAL|CRITICAL)\b")
_FRAME = re.compile(
    r'^\s*(File ".*", line \d+|at [\w.$<>]+\(.*\)|at \S+:\d+(:\d+)?\)?$|at [\w.$<>]+ \(.*:\d+(:\d+)?\)|'
    r"#\d+\s+0x[0-9a-f]+|Traceback |[\w.]*(Error|Exception|Panic)\b:?|error(\[\w+\])?:|error TS\d+)"
)
_GREP = re.compile(r"^\S+:\d+[:-]")  # grep/ripgrep results: path:line: text
_TREE = re.compile(r"^\s*([│├└|`]|[-d][rwx-]{9}\s|total \d+$)")
_NUMBERED = re.compile(r"^\s*\d+[:|]\s?")  # numbered listings (cat -n, file viewers)
_CODE = re.compile(
    r"^\s*(def |class |import |from \S+ import|fn |pub |let |const |function |return\b|#include|"
    r"package |func |public |private |if .*[:{]$|for .*[:{]$|}\s*$|@\w+|use \w|impl\b|struct |enum |#\[|//|/\*|"
    r"\w+\(.*\);$|\w+ = .+;$)"
)
_DIFF = re.compile(r"^(diff --git |--- a/|\+\+\+ b/|@@ -\d+)")


def detect(text: str) -> str:
    """Guess the domain of ``text``; ``text`` when nothing stands out."""
    stripped = text.strip()
    if not stripped:
        return "text"
    if stripped[0] in "{[" and _is_json(stripped):
        return "json"
    lines = [ln for ln in stripped.splitlines()[:200] if ln.strip()]
    n = max(len(lines), 1)
    if any(_DIFF.match(ln) for ln in lines[:50]):
        return "diff"
    if _json_after_preface(stripped):
        return "json"
    log = sum(bool(_TIMESTAMP.match(ln) or _LEVEL.search(ln) or _FRAME.match(ln)) for ln in lines)
    tree = sum(bool(_TREE.match(ln)) for ln in lines)
    code = sum(bool(_CODE.match(_NUMBERED.sub("", ln, count=1)) or _GREP.match(ln)) for ln in lines)
    best, score = max((("log", log), ("tree", tree), ("code", code)), key=lambda kv: kv[1])
    if score / n >= 0.3:
        return best
    if stripped[0] in "{[" and stripped.count('":') >= 2:
        return "json"
    return "text"


def _json_after_preface(text: str) -> bool:
    """A JSON document after a line or two of prose ("The tool returned: {...}")."""
    for m in re.finditer(r"^[{\[]", text[:2000], re.MULTILINE):
        if m.start() and text[: m.start()].count("\n") <= 2:
            return _is_json(text[m.start():].strip())
    return False


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def from_data(*fields: str | None) -> str | None:
    """The whorf domain named by a training row's domain/source/topic fields, if any."""
    for field in fields:
        if field and field in DATA_ALIASES:
            return DATA_ALIASES[field]
        if field in DOMAINS:
            return field
    return None


def check(domain: str | None) -> str | None:
    if domain is not None and domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}: use one of {', '.join(DOMAINS)}")
    return domain

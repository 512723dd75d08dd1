"""The router: which structure an input has, decided before anything is scored.

Domains: ``json`` (also NDJSON and JSON after a one-line preface), ``diff``, ``diagnostics`` (compiler
errors and warnings, tracebacks, test-runner output), ``search`` (``path:line:content``), ``log``,
``table`` (whitespace-aligned columns under a header, CSV, ``ls -l`` listings, path lists, trees),
``code`` and ``prose``; many lines that repeat a few templates (pip, npm, build progress) count as ``log``.
The router reads cheap line statistics over the first 200 lines (about a millisecond per 10 kB); the
same label picks the structural module at inference and the domain prefix the model sees, in training
and at inference alike.
"""

from __future__ import annotations

import csv
import json
import re

from whorf.doc import Doc
from whorf.lexicon import LEVEL, NUMBERED, PATH_LINE, TIMESTAMP

DOMAINS = ("json", "diff", "diagnostics", "search", "log", "table", "code", "prose")
# Bump when a change moves training rows between domains (the shipped models record it; bench/router_moves.py
# measures): a fix that moves none, such as reading Claude Code's "N→" line numbers, leaves the models' inputs.
ROUTER_VERSION = 2

PREFIXES = {
    "json": "JSON:", "diff": "DIFF:", "diagnostics": "DIAG:", "search": "SEARCH:",
    "log": "LOG:", "table": "TABLE:", "code": "CODE:", "prose": "TEXT:",
}
# Older names (whorf-mini v1 and the training data's fields) and what they mean now.
ALIASES = {"text": "prose", "tree": "table"}

REPETITIVE_MIN_LINES = 20

_DIFF = re.compile(r"^(diff --git |--- a/|\+\+\+ b/|@@ -\d+(,\d+)? \+\d+|Index: \S|diff -[ruN])")
_DIAG = re.compile(
    r"^(Traceback \(most recent call last\):|(\*\*\*)?\s*File \".*\", line \d+|\s*\^+\s*$|error(\[E\d+\])?: |warning(\[\w+\])?: |"
    r"\s+--> \S+:\d+:\d+|\S+:\d+:\d+: (fatal error|error|warning|note): |\S+\(\d+,\d+\): error |"
    r"={3,} .*(test session starts|FAILURES|ERRORS|short test summary|passed|failed).* ={3,}|"
    r"\S+::\S+ (PASSED|FAILED|ERROR|SKIPPED|XFAIL)|(PASSED|FAILED|ERROR) \S+::|E\s{3}\S|"
    r"test \S+ \.\.\. (ok|FAILED|ignored)|running \d+ tests?|test result: |\s+at \S+ \(\S+:\d+:\d+\)|"
    r"\s+at [\w.$<>]+\(\S*\)|(PASS|FAIL) \S+\.(js|ts|jsx|tsx)|Tests?:\s+\d+|"
    r"\w+(Error|Exception): |error TS\d+:|npm ERR!|make(\[\d+\])?: \*\*\*|collected \d+ items)"
)
_EXCEPTION_LINE = re.compile(r"^(Traceback \(most recent call last\)|[\w.]*(Error|Exception): )")
_SEARCH = re.compile(r"^[^\s:]*(/|\.[A-Za-z]\w{0,7})[^\s:]*:\d+[:-]")  # path:line: (a path has / or .ext)
_TREE = re.compile(r"^\s*([│├└]|[|`]--)|^total \d+$|^[-dlcbps][rwxsStT-]{9}[.+@]?\s")
_CODE = re.compile(
    r"^\s*(def |class |import |from \S+ import|fn |pub |let |const |function |return\b|#include|"
    r"package |func |public |private |if .*[:{]$|for .*[:{]$|}\s*;?$|@\w+|use \w|impl\b|struct |enum |#\[|//|/\*|"
    r"\w+\(.*\);$|\w+ = .+;$|\)\s*[:{]?$|\]\s*,?$|#!)"
)
_HEADER_WORD = re.compile(r"^[A-Za-z%#][A-Za-z0-9%#_/().-]*:?$")


def route(text: str | Doc) -> str:
    """The domain of ``text``; ``prose`` when nothing stands out."""
    doc = Doc.of(text)
    if not doc.stripped:
        return "prose"
    if json_at(doc) is not None:
        return "json"
    lines = doc.sample
    n = len(lines)
    if any(_DIFF.match(ln) for ln in lines[:50]) and sum(bool(_DIFF.match(ln)) for ln in lines) >= 2:
        return "diff"
    diag = sum(bool(_DIAG.match(ln)) for ln in lines)
    if diag >= 2 and (diag / n >= 0.1 or any(_EXCEPTION_LINE.match(ln) for ln in lines)):
        return "diagnostics"
    if sum(bool(_SEARCH.match(ln)) for ln in lines) / n >= 0.5:
        return "search"
    log = sum(bool(TIMESTAMP.match(ln) or LEVEL.search(ln)) for ln in lines)
    if log / n >= 0.4:
        return "log"
    if is_table(lines) or is_csv(lines):
        return "table"
    bodies = [body for body in (NUMBERED.sub("", ln, count=1) for ln in lines) if body.strip()]  # "  5→" is blank
    if bodies and sum(bool(_CODE.match(body)) for body in bodies) / len(bodies) >= 0.3:
        return "code"
    if repetitive(lines):
        return "log"
    return "prose"


def repetitive(lines: list[str]) -> bool:
    """Many lines that are few messages with different values (pip, npm, build progress): log-shaped."""
    if len(lines) < REPETITIVE_MIN_LINES:
        return False
    from whorf.structure.templates import cluster

    ids = cluster(lines[:100])
    return len(set(ids)) <= 0.25 * len(ids)




def is_table(lines: list[str], by_rule: bool = False) -> bool:
    """Whitespace-aligned rows under a header, or an ls -l listing, or a tree. ``by_rule``: under a rule
    the columns are its dash groups (``pip list``: a header cell of several words, "Editable project
    location", rows that leave their last cells empty); the structure's shape reads tables so, the model's
    label does not (it would move training rows: its router version)."""
    if len(lines) < 3:
        return False
    if sum(bool(_TREE.match(ln)) for ln in lines) / len(lines) >= 0.5:
        return True
    if sum(bool(PATH_LINE.match(ln)) for ln in lines) / len(lines) >= 0.6:  # find, ls -1, git ls-files
        return True
    header = lines[0].split()
    ruled = set(lines[1].strip()) <= set("-=+| ")  # sqlite3 -column, psql: a rule under the header
    if len(header) < 2 or not all(_HEADER_WORD.match(w) for w in header):
        return False
    if not ruled and sum(w[0].isupper() or w[0] in "%#" for w in header) < 0.6 * len(header):
        return False
    body = [ln for ln in lines[1:] if not set(ln.strip()) <= set("-=+| ")]
    if not body:
        return False
    width = len(lines[1].split()) if by_rule and ruled and lines[1].strip() else len(header)
    fits = sum(1 for ln in body if width - 1 <= len(ln.split()) <= max(width, len(header)) * 3)
    aligned = sum("  " in ln.strip() or " | " in ln for ln in body)  # columns line up: runs of spaces
    return fits / len(body) >= 0.8 and aligned / len(body) >= 0.6


def is_csv(lines: list[str]) -> bool:
    """Comma-separated rows under a header, every row with the header's number of fields."""
    if len(lines) < 3 or "," not in lines[0]:
        return False
    try:
        rows = list(csv.reader(lines[:50]))
    except csv.Error:
        return False
    width = len(rows[0])
    cells = [c for r in rows for c in r]
    short = sum(len(c.split()) <= 3 for c in cells)  # fields, not sentences that happen to have commas
    return width >= 2 and sum(len(r) == width for r in rows) >= 0.9 * len(rows) and short >= 0.9 * len(cells)


MAX_PREFACE_LINES = 8  # a tool's header before its JSON ("Process exited with code 0\nOutput:\n{...}")


def json_at(doc: Doc) -> int | None:
    """Where the JSON of ``doc``'s stripped text starts (``json_start``), parsed once per document."""
    return doc.memo("json_at", lambda: json_start(doc.stripped) if doc.stripped else None)


def json_start(text: str) -> int | None:
    """Where the JSON in ``text`` starts: 0 for a JSON document or NDJSON, the offset after a short
    preface (up to ``MAX_PREFACE_LINES`` lines of under 300 characters, such as "The tool returned:" or
    an agent's "Exit code: 0 / Output:" header), or None when it is not JSON."""
    if text[0] in "{[" and is_json(text):
        return 0
    if text[0] == "{" and is_ndjson(text):
        return 0
    at = 0
    for _ in range(MAX_PREFACE_LINES):
        newline = text.find("\n", at)
        if newline < 0 or newline - at >= 300:
            return None
        rest = text[newline + 1:]
        body = rest.lstrip()
        if body[:1] in ("{", "[") and is_json(body.strip()):
            return newline + 1 + (len(rest) - len(body))
        at = newline + 1
    return None


def is_ndjson(text: str) -> bool:
    rows = [ln for ln in text.splitlines() if ln.strip()]
    return len(rows) >= 2 and all(ln.lstrip()[:1] == "{" and is_json(ln) for ln in rows)


def is_json(text: str) -> bool:
    """Whether ``text`` parses as JSON (deep nesting counts as not JSON)."""
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def normalize(domain: str | None) -> str | None:
    """The router's name for a domain (old names accepted)."""
    if domain is None:
        return None
    return ALIASES.get(domain, domain)


def check(domain: str | None) -> str | None:
    domain = normalize(domain)
    if domain is not None and domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}: use one of {', '.join(DOMAINS)}")
    return domain


# Training rows name their domain in their own words; whorf trains with the router's label on the text,
# so this table is only for reports that group rows by their source.
DATA_ALIASES = {
    "code_diff": "diff", "diff": "diff", "write_file": "diff",
    "log_stream": "log", "log": "log", "error_trace": "diagnostics", "agent_error": "diagnostics",
    "bash_output": "table", "tree": "table", "file_listing": "table",
    "json_tool_output": "json", "json_tool_result": "json", "json": "json",
    "file_read": "code", "code": "code", "search_result": "search",
    "text": "prose", "openorca": "prose", "dolly": "prose", "alpaca_gpt4": "prose",
}


def from_data(*fields: str | None) -> str | None:
    """The domain named by a training row's domain/source/topic fields, if any."""
    for field in fields:
        if field and field in DATA_ALIASES:
            return DATA_ALIASES[field]
        if field in DOMAINS:
            return field
    return None

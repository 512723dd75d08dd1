"""Diagnostics (compiler errors and warnings, tracebacks, test-runner output): every diagnostic's headline
stays verbatim; runs of passing-test lines collapse like log lines; library and framework stack frames
collapse, the user's frames stay."""

from __future__ import annotations

import re

from whorf.structure import lines as L
from whorf.structure import templates
from whorf.structure.plan import Note, Piece, Plan

MIN_LINES = 8
MAX_SCAN = 2000

HEADLINE = re.compile(
    r"^\s*(error|warning|fatal error|note|help)(\[\w+\])?:|:\d+(:\d+)?: (fatal error|error|warning|note):|"
    r"^\s*--> |^\s*\|.*(\^|expected|found)|^\s*=\s*(note|help):|"
    r"^\s*Traceback \(most recent call last\)|^[\w.]*(Error|Exception|Warning|Exit|Interrupt)\b(:|$)|"
    r"^\s*(E|>)\s{2,}|^(FAILED|ERROR|XPASS)\b|\b(FAILED|ERROR)\b|^=+ .* =+$|^_{3,} .* _{3,}$|"
    r"\b\d+ (failed|passed|errors?|skipped|warnings?|xfailed|deselected)\b|test result:|^failures:|"
    r"^---- .* stdout ----|panicked at|^\s*(FAIL|✕|✗|×)\s|Tests?:\s+\d+|^\s*SyntaxError|^\s*\^+\s*$|"
    r"\berror TS\d+|npm ERR!|make(\[\d+\])?: \*\*\*|Segmentation fault|core dumped|assert"
)
PASSING = re.compile(
    r"\bPASSED\b|\.\.\. ok$|^\s*(✓|✔|√|PASS)\s|\bok \d+ |^\s*\S+\.py \.+\s*(\[\s*\d+%\])?$|\bSKIPPED\b|\bXFAIL\b"
)
LIBRARY_FRAME = re.compile(
    r'^\s*File "(.*[/\\](site-packages|dist-packages|lib[/\\]python\d[.\d]*|importlib)[/\\].*|<frozen [^>]+>)", line \d+'
    r"|^\s*at .*(node:internal|node_modules[/\\]|\(internal/|\bjava\.|\bjavax\.|\bsun\.|\bjdk\.internal|"
    r"org\.junit|org\.springframework|\bkotlin\.)|/rustc/[0-9a-f]+/library/|^\s+\d+: (std|core|alloc)::"
)
PY_FRAME = re.compile(r'^\s*File ".*", line \d+')
FRAME_LIKE = re.compile(r'^\s*(File ".*", line \d+|at \S|#\d+ )')


def plan(text: str) -> Plan:
    lines = L.split(text)
    if len(lines) < MIN_LINES:
        return Plan("diagnostics", [Piece(0, len(text), "keep")] if text else [])
    keep, kinds, notes = [], [], []
    i = 0
    while i < len(lines):
        t = lines[i].text[:MAX_SCAN]  # patterns see a bounded prefix: linear time on any line
        if HEADLINE.search(t) and not PASSING.search(t):
            keep.append(True)
            kinds.append("headline")
            notes.append(Note(i, "headline", "diagnostic headline"))
        elif LIBRARY_FRAME.search(t):
            keep.append(False)
            kinds.append("frame")
            if PY_FRAME.match(t):  # the frame's source and caret lines go with it
                while i + 1 < len(lines) and lines[i + 1].text.startswith("    ") and not PY_FRAME.match(lines[i + 1].text[:MAX_SCAN]):
                    keep.append(False)
                    kinds.append("frame")
                    i += 1
        elif PASSING.search(t):
            keep.append(False)
            kinds.append("passing")
        else:
            keep.append(True)
            kinds.append("other")
        i += 1

    def describe(run):
        if all(kinds[j] == "frame" for j in run):
            return "line", "library-frame", None
        if all(kinds[j] == "passing" for j in run):
            return "line", "passing", None
        return "line", "similar", None

    _repeats(lines, keep, kinds)
    return L.merge(L.collapse(text, lines, keep, "diagnostics", describe, notes))


def _repeats(lines: list[L.Line], keep: list[bool], kinds: list[str]) -> None:
    """Other lines that repeat a template already shown (``Compiling 'x.py'...`` thirty times) may go."""
    ids = templates.cluster([ln.text for ln in lines])
    seen: set[int] = set()
    for i, t in enumerate(ids):
        line = lines[i].text
        # only top-level lines: indented ones are frames, source and labels of a diagnostic (the user's stay)
        if kinds[i] == "other" and t in seen and len(line) > 12 and not line[:1].isspace() and not FRAME_LIKE.match(line[:MAX_SCAN]):
            keep[i] = False
            kinds[i] = "repeat"
        seen.add(t)

"""Diagnostics (compiler errors and warnings, tracebacks, test-runner output): every diagnostic's headline
stays verbatim; top-level lines that truly repeat an earlier one (only numbers and ids differ) collapse.
Every test name and every frame is an entity: under the budget all stay; over it, library and framework
stack frames go first, then passing-test lines, then other lines, never a headline."""

from __future__ import annotations

import re

from whorf.structure import budget as B
from whorf.structure import lines as L
from whorf.structure import repeat
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
PRIORITY = {"headline": B.MUST, "frame": 0, "passing": 1}  # over the budget: frames go first; "other" is 2


def plan(text: str, budget_chars: int | None = None, query: str | None = None) -> Plan:
    lines = L.split(text)
    if len(lines) < MIN_LINES and (budget_chars is None or len(text) <= budget_chars):
        return Plan("diagnostics", [Piece(0, len(text), "keep")] if text else [])
    kinds = _kinds(lines)
    again = repeat.repeats([ln.text for ln in lines])
    keep, priority, notes = [], [], []
    for i, (ln, kind, rep) in enumerate(zip(lines, kinds, again)):
        if kind == "headline":
            notes.append(Note(i, "headline", "diagnostic headline"))
        # indented lines are frames, source and labels of one diagnostic: they never count as repeats
        top = ln.text[:1].strip() != "" and kind != "frame" and not FRAME_LIKE.match(ln.text[:MAX_SCAN])
        keep.append(kind == "headline" or not (rep and top))
        priority.append(PRIORITY.get(kind, 2))
    return L.decide(text, lines, keep, priority, "diagnostics", budget_chars, notes=notes, query=query)


def _kinds(lines: list[L.Line]) -> list[str]:
    """headline, frame (a library or framework stack frame, with its source lines), passing or other."""
    kinds: list[str] = []
    i = 0
    while i < len(lines):
        t = lines[i].text[:MAX_SCAN]  # patterns see a bounded prefix: linear time on any line
        if HEADLINE.search(t) and not PASSING.search(t):
            kinds.append("headline")
        elif LIBRARY_FRAME.search(t):
            kinds.append("frame")
            if PY_FRAME.match(t):  # the frame's source and caret lines go with it
                while i + 1 < len(lines) and lines[i + 1].text.startswith("    ") and not PY_FRAME.match(lines[i + 1].text[:MAX_SCAN]):
                    kinds.append("frame")
                    i += 1
        elif PASSING.search(t):
            kinds.append("passing")
        else:
            kinds.append("other")
        i += 1
    return kinds

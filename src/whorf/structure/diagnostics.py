"""Diagnostics (compiler errors and warnings, tracebacks, test-runner output): every diagnostic's headline
stays verbatim; top-level lines that truly repeat an earlier one (only numbers and ids differ) collapse.
Every test name and every frame is an entity: under the budget all stay; over it, library and framework
stack frames go first, then passing-test lines and failure sections that repeat an earlier one (only
numbers differ), then other lines, never a headline."""

from __future__ import annotations

import re

from whorf.doc import Doc
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
SECTION = re.compile(r"^(_{3,}|-{4}) (.*) (_{3,}|-{4})$")  # pytest's ___ test_x ___, cargo's ---- x stdout ----
SECTION_END = re.compile(r"^=+ .* =+$")
# over the budget: library frames go first, then passing tests and sections that repeat an earlier one
# (a parametrized test failing the same way: only numbers differ), then other lines; never a headline
PRIORITY = {"headline": B.MUST, "frame": 0, "passing": 1, "repeat": 1}


RUNNER = re.compile(r"^=+ (test session starts|FAILURES|ERRORS|short test summary info|warnings summary)\b.*=+$|"
                    r"^_{3,} \S.* _{3,}$|^running \d+ tests?$|^test result: ")


def detect(lines: list[str]) -> bool:
    """A test runner's report (pytest's banners and failure sections, cargo test's), whatever the router
    said: a run of failures that repeat one another looks like a log to it."""
    return sum(bool(RUNNER.match(ln[:MAX_SCAN])) for ln in lines) >= 2


def plan(source: str | Doc, budget_chars: int | None = None, query: str | None = None) -> Plan:
    doc = Doc.of(source)
    text, lines = doc.text, doc.lines
    if len(lines) < MIN_LINES and (budget_chars is None or len(text) <= budget_chars):
        return Plan("diagnostics", [Piece(0, len(text), "keep")] if text else [])
    kinds = _kinds(lines)
    groups = _groups(lines, kinds)
    again = repeat.repeats([ln.text for ln in lines])
    keep, priority, notes = [], [], []
    for i, (ln, kind, rep) in enumerate(zip(lines, kinds, again)):
        if kind == "headline":
            notes.append(Note(i, "headline", "diagnostic headline"))
        # indented lines are frames, source and labels of one diagnostic: they never count as repeats
        top = ln.text[:1].strip() != "" and kind != "frame" and not FRAME_LIKE.match(ln.text[:MAX_SCAN])
        keep.append(kind in ("headline", "repeat") or not (rep and top))
        priority.append(PRIORITY.get(kind, 2))
    return L.decide(text, lines, keep, priority, "diagnostics", budget_chars, notes=notes, query=query,
                    groups=groups)


def _groups(lines: list[L.Line], kinds: list[str]) -> list[int]:
    """The budget's units: a repeated section's lines together, every other line on its own."""
    out, unit = [], -1
    for i, kind in enumerate(kinds):
        starts = kind == "repeat" and (i == 0 or kinds[i - 1] != "repeat" or SECTION.match(lines[i].text[:MAX_SCAN]))
        unit += 1 if kind != "repeat" or starts else 0
        out.append(unit)
    return out


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
    _mark_repeated_sections(lines, kinds)
    return kinds


def _mark_repeated_sections(lines: list[L.Line], kinds: list[str]) -> None:
    """A section (from a ``___ name ___`` header to the next) whose lines repeat an earlier section's line
    for line, numbers aside, is a repeat: its headlines stay under the budget but are no longer MUST."""
    starts = [i for i, ln in enumerate(lines) if SECTION.match(ln.text[:MAX_SCAN])]
    seen: set[tuple[str, ...]] = set()
    for a, start in enumerate(starts):
        end = starts[a + 1] if a + 1 < len(starts) else len(lines)
        end = next((j for j in range(start + 1, end) if SECTION_END.match(lines[j].text[:MAX_SCAN])), end)
        name = SECTION.match(lines[start].text[:MAX_SCAN]).group(2)
        key = (repeat.key(name), *(repeat.key(ln.text[:MAX_SCAN]) for ln in lines[start + 1:end]))
        if key in seen:
            kinds[start:end] = ["repeat"] * (end - start)
        seen.add(key)

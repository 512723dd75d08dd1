"""Prose and mixed documents (a README, an issue, a review comment): only sentences reach the word model.

A document is cut into blocks; a block is ``words`` (a paragraph of sentences, which the word model may
shorten) or ``keep`` (verbatim): fenced and indented code blocks, tables, headings, HTML, link
definitions, lines that look like code or commands, and list items that are names rather than sentences
(``- requests>=2.31``, ``* src/whorf/cli.py``). A prose list item of several words is prose.
"""

from __future__ import annotations

import re

from whorf.doc import Doc
from whorf.lexicon import FENCE, LIST_ITEM
from whorf.structure.plan import Piece, Plan

_VERBATIM = re.compile(
    r"^\s{0,3}(#{1,6}\s|\||<[A-Za-z!/]|\[[^\]]+\]:\s|[-=]{3,}\s*$|\$ |>>> |\.\.\. |%\s)|\t|^ {4,}\S|"
    r"^\s*(def |class |import |from \S+ import|fn |pub |function |const |let |var |return\b|#include|"
    r"SELECT |INSERT |CREATE |pip install|npm |git |cargo |make |docker |kubectl |curl |python3? )"
)
_CODEISH = re.compile(r"[`{}();<>=]|::|->|\w/\w|\w\.\w+\(|^\S+$")
MIN_PROSE_WORDS = 6  # a list item with fewer words (or code-like) is a name, kept verbatim


def plan(source: str | Doc, budget_chars: int | None = None, query: str | None = None) -> Plan:
    doc = Doc.of(source)
    text, lines = doc.text, doc.lines
    kinds = _kinds([ln.text for ln in lines])
    out = Plan("prose")
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and kinds[j] == kinds[i]:
            j += 1
        out.pieces.append(Piece(lines[i].start, lines[j - 1].stop, kinds[i]))
        i = j
    if lines and lines[-1].stop < len(text):
        out.pieces.append(Piece(lines[-1].stop, len(text), "keep"))
    return out


def _kinds(texts: list[str]) -> list[str]:
    """``words`` or ``keep`` per line."""
    kinds: list[str] = []
    fence: str | None = None
    for t in texts:
        m = FENCE.match(t)
        if fence is not None:
            kinds.append("keep")
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            kinds.append("keep")
            continue
        kinds.append("keep" if _verbatim(t) else "words")
    return kinds


def _verbatim(line: str) -> bool:
    if not line.strip():
        return False
    if _VERBATIM.search(line):
        return True
    item = LIST_ITEM.match(line)
    if item:
        rest = item.group(2)
        return len(rest.split()) < MIN_PROSE_WORDS or bool(_CODEISH.search(rest)) and len(rest.split()) < 12
    return False


"""Segmentation into lines and words, and the rebuild that turns kept words back into text.

A word is a maximal run of non-whitespace characters. Every decision in whorf is made per word, so a
word is either kept verbatim or dropped: compression can never split ``Cargo.toml`` into pieces.
The rebuild preserves line order, line endings and the leading indentation of kept lines, and never
adds, reorders or rewrites words: the output's words are a subsequence of the input's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from whorf.doc import Line, split_lines
from whorf.lexicon import WORD as _WORD


@dataclass(frozen=True, slots=True)
class Word:
    """One word: its text, character offsets ``[start, end)`` in the input, and its line number."""

    text: str
    start: int
    end: int
    line: int


@dataclass(frozen=True, slots=True)
class Segmented:
    text: str
    lines: tuple[Line, ...]
    words: tuple[Word, ...]


def segment(text: str) -> Segmented:
    """Split ``text`` into lines and words with character offsets."""
    lines = split_lines(text)
    words = [Word(w.group(), line.start + w.start(), line.start + w.end(), number)
             for number, line in enumerate(lines) for w in _WORD.finditer(line.text)]
    return Segmented(text, tuple(lines), tuple(words))


def rebuild(seg: Segmented, keep: Sequence[bool], drop_marker: str | None = None) -> str:
    """Rebuild text from the kept words.

    Adjacent kept words are joined with their original separator, non-adjacent ones with one space
    (or `` <marker> `` when ``drop_marker`` is set). A line with no kept word disappears; a kept line
    keeps its leading indentation and its original line ending. Blank lines between kept lines stay (the
    paragraph breaks: the run nearest the next kept line, when lines between were dropped).
    """
    if len(keep) != len(seg.words):
        raise ValueError(f"keep has {len(keep)} decisions for {len(seg.words)} words")
    text = seg.text
    by_line: dict[int, list[int]] = {}
    for i, (word, k) in enumerate(zip(seg.words, keep)):
        if k:
            by_line.setdefault(word.line, []).append(i)
    out: list[str] = []
    first_word_of_line: dict[int, int] = {}
    for i, word in enumerate(seg.words):
        first_word_of_line.setdefault(word.line, i)
    pending: list[str] = []  # the blank lines before the next kept line (a paragraph break)
    dropped = any_dropped = False
    for number, line in enumerate(seg.lines):
        kept = by_line.get(number)
        if not kept:
            if number not in first_word_of_line:  # a blank line
                pending, dropped = ([] if dropped else pending) + [text[line.start:line.end] + line.ending], False
            else:
                dropped = any_dropped = True
            continue
        if out or not any_dropped:
            out.extend(pending)
        pending, dropped = [], False
        first = seg.words[first_word_of_line[number]]
        parts = [text[line.start:first.start]]  # leading indentation
        prev = None
        for i in kept:
            word = seg.words[i]
            if prev is not None:
                if i == prev + 1:
                    parts.append(text[seg.words[prev].end:word.start])
                else:
                    parts.append(f" {drop_marker} " if drop_marker else " ")
            parts.append(word.text)
            prev = i
        out.append("".join(parts))
        out.append(line.ending)
    if out and not dropped:  # blank lines after the last line, when it was kept
        out.extend(pending)
    result = "".join(out)
    # The last kept line may not have been the last line: do not leave a dangling line ending
    # that the input did not have after that content.
    return result.rstrip("\r\n") if not text.endswith(("\n", "\r")) else result

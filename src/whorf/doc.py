"""One document, read once: the text and what the router and the structure modules read of it.

A :class:`Doc` is made once per input (``Doc.of``) and flows from routing to the structural plan. What
it holds is computed when first asked for and kept: the text stripped, its first ``SAMPLE_LINES`` lines
(as the modules' detectors read them), the router's sample (the non-blank ones of the stripped text), its
lines with their offsets; other layers keep what they compute of it with ``memo`` (where its JSON starts,
``whorf.domain.json_at``: a full parse, done at most once).
:class:`Line` is the one line type of the package: segmentation (``whorf.segment``) and the line-shaped
structure modules (``whorf.structure.lines``) both split with :func:`split_lines`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from whorf.lexicon import LINE

SAMPLE_LINES = 200  # the lines the router and the detectors sample from the head of a text


@dataclass(frozen=True, slots=True)
class Line:
    """One line: the offsets of its content (without the line ending), the content and the ending."""

    start: int
    end: int
    text: str
    ending: str

    @property
    def stop(self) -> int:
        """The offset after the line ending."""
        return self.end + len(self.ending)


def split_lines(text: str) -> list[Line]:
    """Every line of ``text`` with its offsets (``\\n``, ``\\r\\n`` or none at the end)."""
    out = []
    for m in LINE.finditer(text):
        raw = m.group()
        body = raw.rstrip("\r\n")
        out.append(Line(m.start(), m.start() + len(body), body, raw[len(body):]))
    return out


def head_lines(text: str, n: int = SAMPLE_LINES) -> list[str]:
    """``text.splitlines()[:n]`` without splitting the rest of a large input."""
    cut = -1
    for _ in range(n):
        cut = text.find("\n", cut + 1)
        if cut < 0:
            return text.splitlines()[:n]
    return text[:cut + 1].splitlines()[:n]


_MISSING = object()


class Doc:
    """A text and what is read of it, each computed once when first asked for."""

    __slots__ = ("text", "_cache")

    def __init__(self, text: str):
        self.text = text
        self._cache: dict[str, object] = {}

    @classmethod
    def of(cls, text: str | Doc) -> Doc:
        return text if isinstance(text, Doc) else cls(text)

    def memo(self, key: str, make: Callable[[], object]):
        """``make()`` the first time ``key`` is asked for, the same value after (what other layers compute
        of the document once: where its JSON starts, ``whorf.domain.json_at``)."""
        value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            value = self._cache[key] = make()
        return value

    @property
    def stripped(self) -> str:
        return self.memo("stripped", self.text.strip)

    @property
    def head(self) -> list[str]:
        """The first lines, as the structure modules' detectors sample them."""
        return self.memo("head", lambda: head_lines(self.text))

    @property
    def sample(self) -> list[str]:
        """The non-blank lines among the first of the stripped text: the router's sample (its table and
        code tests, and the shape's table-under-a-rule test read the same)."""
        return self.memo("sample", lambda: [ln for ln in head_lines(self.stripped) if ln.strip()])

    @property
    def lines(self) -> list[Line]:
        return self.memo("lines", lambda: split_lines(self.text))

    def __repr__(self) -> str:
        return f"Doc({self.text[:40]!r}{'...' if len(self.text) > 40 else ''}, {len(self.text)} chars)"

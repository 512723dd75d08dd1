"""Relevance of units (rows, matches, log lines, records, function bodies) to the agent's query.

BM25 (Okapi, k1 = 1.2, b = 0.75) over the units of one output, with identifier splitting on both sides:
``log_compressor``, ``LogCompressor`` and ``log-compressor`` all give the terms ``log`` and ``compressor``
(and the whole identifier, lower-cased, as a term of its own); words of other scripts count too (``机密``).
Latin words of one or two letters and a short list of English function words are not terms, nor is a query term that occurs in more than half of the units
(it tells none apart). Over the normal budget every term reorders what goes. A query narrows an output
below the normal budget (the query budget) only through its *specific* terms (``specific``, ``mentions``:
from words shaped like an identifier, a path, a version, a number, an all-caps name, or in a script
without case); a plain word such as "run" or "installed" is in most outputs and is no evidence that
some units matter more than the rest. A query with no term in any unit scores every unit 0, which is
the same as no query: the budget then decides exactly as without one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

K1, B_LEN = 1.2, 0.75
_WORD = re.compile(r"\w+(?:[.\-]\w+)*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
STOP = frozenset("""the and for are but not you all any can had her was one our out his has how its may new now
old see two way who did get let put say she too use what when where which while with this that from have into
they them then than there these those will would could should about after before does done each here just more
most much only over some such very your also been being were please show find tell give look need want""".split())


def _other_script(chunks) -> list[str]:
    """Parts of an identifier in a script without letter case (CJK and the like), which ``_CAMEL`` skips."""
    return [c.lower() for c in chunks if c and not c.isascii()]


def terms(text: str) -> list[str]:
    """Search terms of ``text``: each identifier whole and split into its parts, lower-cased."""
    out: list[str] = []
    for m in _WORD.finditer(text[:20_000]):
        word = m.group()
        chunks = re.split(r"[_.\-]+", word)
        parts = [p for chunk in chunks for p in _CAMEL.findall(chunk)]
        dotted = re.split(r"[.\-]+", word) if "_" in word else []  # mod_07.py -> mod_07
        for t in {word.lower(), *(p.lower() for p in parts + dotted), *_other_script(chunks)}:
            if (len(t) > 2 or (len(t) == 2 and not t.isascii())) and t not in STOP:
                out.append(t)
    return out


_SPECIFIC = re.compile(r"\d|[^\x00-\x7f]|\w[_./:\\-]\w|[a-z][A-Z]|^[A-Z]{2,}$")


def specific(query: str | None) -> set[str]:
    """The query's terms that can single units out: those of a word shaped like an identifier, a path, a
    version or a number (``log_compressor``, ``src/app.py``, ``2.31.0``, ``LogCompressor``, ``E4021``,
    ``SIGILL``), in a script without letter case (``机密``), or a plain word the tokenizer does not know
    whole (``filelock``, ``gunicorn``). Plain words ("run", "packages", "installed", "the") are not: most
    outputs share them, so they are no evidence of which units matter."""
    out: set[str] = set()
    for m in _WORD.finditer((query or "")[:20_000]):
        if _SPECIFIC.search(m.group()) or _rare(m.group()):
            out.update(terms(m.group()))
    return out


def _rare(word: str) -> bool:
    """A plain word the tokenizer does not know whole (more than one o200k token after a space: ``filelock``,
    ``gunicorn``, ``kubernetes``): a name, not a word most outputs share (``run``, ``installed``)."""
    from whorf import tokens

    return len(word) >= 4 and word.isalpha() and word.lower() not in STOP and tokens.count(" " + word.lower()) >= 2


def mentions(text: str, query: str | None) -> bool:
    """Whether one of ``query``'s specific terms occurs in ``text``."""
    wanted = specific(query)
    return bool(wanted) and any(t in wanted for t in terms(text))


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a query says about the units of one output: each unit's BM25 score, and the query's specific
    terms that single units out (each occurs in at least one unit and in at most half of them). Only
    ``terms`` licenses dropping units below the normal budget; the scores alone only reorder."""

    scores: list[float]
    terms: tuple[str, ...] = ()


def evidence(units: Sequence[str], query: str | None) -> Evidence:
    """The evidence ``query`` gives about ``units`` (no terms: it tells none apart)."""
    rel = scores(units, query)
    wanted = specific(query)
    if not wanted or len(units) < 2 or not any(r > 0 for r in rel):
        return Evidence(rel)
    df = Counter(t for u in units for t in set(terms(u)) if t in wanted)
    found = tuple(sorted(t for t, d in df.items() if d <= len(units) / 2))
    return Evidence(rel, found)


def scores(units: Sequence[str], query: str | None) -> list[float]:
    """BM25 score of each unit for ``query`` (all 0.0 without a query or when nothing matches)."""
    wanted = set(terms(query or ""))
    if not wanted or not units:
        return [0.0] * len(units)
    bags = [Counter(t for t in terms(u) if t in wanted) for u in units]
    lengths = [max(1, len(u.split())) for u in units]
    avg = sum(lengths) / len(lengths)
    n = len(units)
    df = Counter(t for bag in bags for t in bag)
    # a term in most units tells none apart ("quota" in every record): it is not counted
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) if n < 3 or d <= n / 2 else 0.0 for t, d in df.items()}
    out = []
    for bag, length in zip(bags, lengths):
        norm = K1 * (1 - B_LEN + B_LEN * length / avg)
        out.append(sum(idf[t] * f * (K1 + 1) / (f + norm) for t, f in bag.items()))
    return out

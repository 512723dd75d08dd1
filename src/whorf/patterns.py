r"""Must-keep pattern profiles: the words compression may never drop.

Profiles are data: JSON files in ``whorf/profiles`` (or any path) with named regular expressions and an
optional ``extends``. ``seed`` is the seed's exact regex, ``default`` extends it (hex, versions,
key=value, IPs and ports, URLs, UUIDs and hashes, CVE/CWE ids, error codes, negations and directives).

A word is must-keep when any pattern of the profile matches inside it: each word is searched on its
own (the search stops at the first match). ``matches`` lists what a search over the whole text finds,
the units of the seed's exact_keep_pct; since no pattern matches whitespace, its matches lie inside
words. A profile's ``scope`` extends a pattern to the words after a match on the same line: a number keeps
that many words; ``"after"`` keeps the words through the end of the clause (the first word that ends in
``,`` ``;`` ``:`` ``.`` ``!`` ``?``, an ellipsis or a dash, as ``whorf.phrases.ends_clause`` says; at most
``MAX_CLAUSE`` words a clause, two clauses for a sentence-opening condition); ``"clause"`` keeps the whole
clause, back to its start too (at most ``MAX_CLAUSE`` words back) ("This endpoint is not idempotent": what is negated comes before the negation). ``default`` keeps a negation or a
prohibition with what it negates, a condition with what it conditions and a sentence-opening imperative
with its object, so "do not delete the production database" cannot come out as "do not delete the", nor
"if the migration fails" as "if fails". ``scope_patterns`` only open scopes (a condition word is not a fact
exact_keep_pct counts); a pattern named in ``sentence_start`` counts only on the first word of a sentence
(of a line, after ``.`` ``!`` ``?`` ``:`` ``;`` or a list marker, or after "please", "then", "next",
"finally"...) and must match at the word's start:
"Run the migration" is an imperative, "a dry run" is not. A scope pattern named in ``needs_clause`` opens its
scope only when a clause follows it (``whorf.phrases.opens_clause``): "after the migration fails" is a
condition, "after lunch" a time.

Bounded scanning. A regular expression that scans a run of characters from every start position takes
time quadratic in the length of a run without spaces (the seed's ``[a-z_]+\.[a-z_]+`` on a minified
line: 42 s at 64 kB). Words up to ``MAX_SCAN`` characters are matched exactly; a longer word is searched
in windows of ``MAX_SCAN`` characters that overlap by ``OVERLAP`` (a match up to ``OVERLAP`` characters
long lies wholly inside one window), so the cost per character is bounded whatever the profile, and of a
word longer than ``MAX_WORD`` only the first and last ``MAX_WORD // 2`` characters are searched, so such
a word costs a constant. Inside a window the regex sees the window's end as the end of the text, so on
long words ``\b`` can also hold there: they err on the side of being kept. The ``default`` profile's
run-scanning patterns also carry a guard so that they start only where their run starts (the same
per-word decisions, in linear time).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterator, Sequence

from whorf.phrases import clause_end, ends_clause, ends_sentence, is_function, opens_clause
from whorf.segment import Word

BUILTIN_PROFILES = ("seed", "default")
MAX_SCAN = 256  # words longer than this are searched in overlapping windows of this many characters
OVERLAP = 64
MAX_WORD = 4096  # of a longer word, only the first and last MAX_WORD // 2 characters are searched
from whorf.lexicon import WORD as _RUN  # a word: what segmentation calls one
MAX_CLAUSE = 12  # a "clause" scope keeps at most this many words after its match
_BULLETS = re.compile(r"^([-*+>\u2022]|\(?(\d{1,3}|[a-zA-Z])[.)])$")  # "-", "1.", "2)", "(a)"
# words after which a sentence still opens: "Please run ...", "Then delete ...", "Finally, restart ..."
_LEADS = frozenset({"please", "then", "next", "now", "first", "finally", "also", "so", "and", "or", "instead"})
Scope = int | str  # a number of words, "after" (the rest of the clause) or "clause" (all of it)


@dataclass(frozen=True)
class Profile:
    name: str
    patterns: dict[str, str]
    scope: tuple[tuple[str, Scope], ...] = ()  # (pattern name, n or "clause"): what a match also keeps
    # patterns that only open a scope (a condition word): kept with their clause when they govern one, but not
    # must-keep words of their own, so they are not facts exact_keep_pct counts
    scope_patterns: tuple[tuple[str, str], ...] = ()
    sentence_start: frozenset[str] = frozenset()  # patterns that count only on a sentence's first word
    # scope patterns that open their scope only when a clause follows (phrases.opens_clause): "after the
    # migration fails" opens one, "after lunch" does not
    needs_clause: frozenset[str] = frozenset()

    @property
    def regex(self) -> re.Pattern[str]:
        return _compile(tuple(self.patterns.values()))

    def must_keep(self, words: Sequence[Word], text: str) -> list[bool]:
        """For each word of ``text``, whether a pattern of this profile matches inside it (or it lies in
        the scope of a scoped match, such as the words a negation negates). A word longer than
        ``MAX_WORD`` is always kept: only its ends are searched, so nothing can say its middle holds no fact."""
        flags = [hit or w.end - w.start > MAX_WORD for hit, w in zip(_flag(self.regex, words, text), words)]
        only = dict(self.scope_patterns)
        for name, n in self.scope:
            regex = _compile((self.patterns.get(name) or only[name],))
            hits = _at_sentence_start(regex, words, text) if name in self.sentence_start else _flag(regex, words, text)
            for i, hit in enumerate(hits):
                if hit and (name not in self.needs_clause or opens_clause(words, i)):
                    flags[i] = True
                    _keep_scope(words, flags, i, n)
        return flags

    def matches(self, text: str) -> list[str]:
        """All non-empty matches of the profile in ``text`` (the units of exact_keep_pct)."""
        return [m.group() for m in _scan(self.regex, text) if m.group()]


def _keep_scope(words: Sequence[Word], flags: list[bool], i: int, n: Scope) -> None:
    """Flag the words a match at word ``i`` governs: the next ``n`` of its line, the rest of its clause
    (``"after"``) or all of it (``"clause"``: back to its start too). A clause that opens its sentence and ends
    in a comma ("If the check fails, roll back ...") governs the next clause too: the condition and what it
    conditions go together."""
    if n not in ("clause", "after"):
        for j in range(i + 1, min(i + 1 + int(n), len(words))):
            if words[j].line != words[i].line:
                break
            flags[j] = True
        return
    j = i - 1  # back to the clause's start: "This endpoint is not idempotent" keeps what is not idempotent
    while n == "clause" and j >= 0 and j >= i - MAX_CLAUSE and words[j].line == words[i].line \
            and not ends_clause(words[j].text):
        flags[j] = True
        j -= 1
    opens = _opens_sentence(words, i) or (i > 0 and is_function(words[i - 1].text)
                                           and _opens_sentence(words, i - 1))  # "In case", "Even if"
    clauses = 2 if opens else 1
    if ends_clause(words[i].text):
        return  # the match ends its clause ("no.")
    j = i + 1
    while clauses and j < len(words) and j <= i + MAX_CLAUSE * 2 and words[j].line == words[i].line:
        flags[j] = True
        end = clause_end(words[j].text)
        if end:
            clauses = clauses - 1 if end == "," else 0
        j += 1


def _opens_sentence(words: Sequence[Word], i: int) -> bool:
    return i == 0 or words[i - 1].line != words[i].line or ends_sentence(words[i - 1].text)


def _at_sentence_start(regex: re.Pattern[str], words: Sequence[Word], text: str) -> list[bool]:
    """Whether ``regex`` matches at the start of each word that opens a sentence."""
    out = []
    for i, w in enumerate(words):
        prev = words[i - 1] if i else None
        back = i - 1
        while prev is not None and prev.line == w.line and prev.text.lower().strip(",") in _LEADS and back > i - 3:
            back -= 1
            prev = words[back] if back >= 0 else None
        opens = (prev is None or prev.line != w.line or ends_sentence(prev.text) or prev.text.endswith(";")
                 or _BULLETS.match(prev.text))
        out.append(bool(opens) and regex.match(text, w.start, w.end) is not None)
    return out


def _flag(regex: re.Pattern[str], words: Sequence[Word], text: str) -> list[bool]:
    """Whether ``regex`` matches inside each word: a search bounded to the word (it stops at the first
    match), in overlapping windows for a word longer than ``MAX_SCAN``."""
    search = regex.search
    return [
        search(text, w.start, w.end) is not None
        if w.end - w.start <= MAX_SCAN
        else any(search(text, a, b) for a, b in _windows(w.start, w.end))
        for w in words
    ]


def _scan(regex: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of ``regex`` in ``text``: one ``finditer`` over each stretch of words up to
    ``MAX_SCAN`` characters (exactly what a search over the whole text finds there), non-overlapping
    matches found in windows for each longer word."""
    begin = last = -1
    for word in _RUN.finditer(text):
        start, end = word.span()
        if end - start <= MAX_SCAN:
            begin = start if begin < 0 else begin
            last = end
            continue
        if begin >= 0:
            yield from regex.finditer(text, begin, last)
            begin = -1
        cursor = start
        for a, b in _windows(start, end):
            for m in regex.finditer(text, max(a, cursor), b):
                cursor = m.end() if m.end() > m.start() else m.end() + 1
                yield m
    if begin >= 0:
        yield from regex.finditer(text, begin, last)


def _windows(start: int, end: int) -> Iterator[tuple[int, int]]:
    """Windows of ``MAX_SCAN`` characters over ``[start, end)`` (longer than ``MAX_SCAN``), each
    overlapping the next by ``OVERLAP``, so that every stretch up to ``OVERLAP`` characters lies inside
    one; over a word longer than ``MAX_WORD``, only its first and last ``MAX_WORD // 2`` characters."""
    if end - start > MAX_WORD:
        yield from _windows(start, start + MAX_WORD // 2)
        yield from _windows(end - MAX_WORD // 2, end)
        return
    for a in range(start, end - OVERLAP, MAX_SCAN - OVERLAP):
        yield a, min(a + MAX_SCAN, end)


@lru_cache(maxsize=32)
def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


@lru_cache(maxsize=32)
def load_profile(name_or_path: str = "default") -> Profile:
    """Load a built-in profile by name or a JSON profile file by path; ``extends`` is followed."""
    if name_or_path in BUILTIN_PROFILES:
        raw = json.loads(resources.files("whorf.profiles").joinpath(f"{name_or_path}.json").read_text())
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ValueError(
                f"unknown must-keep profile {name_or_path!r}: use one of {', '.join(BUILTIN_PROFILES)} "
                "or a path to a JSON profile"
            )
        raw = json.loads(path.read_text())
    patterns: dict[str, str] = {}
    scope: dict[str, Scope] = {}
    if raw.get("extends"):
        parent = load_profile(raw["extends"])
        patterns.update(parent.patterns)
        scope.update(parent.scope)
    patterns.update(raw.get("patterns", {}))
    only: dict[str, str] = dict(parent.scope_patterns) if raw.get("extends") else {}
    only.update(raw.get("scope_patterns", {}))
    scope.update({k: v if v in ("clause", "after") else int(v) for k, v in raw.get("scope", {}).items()})
    unknown = set(scope) - set(patterns) - set(only)
    if unknown:
        raise ValueError(f"profile {raw.get('name', name_or_path)}: scope names unknown patterns {sorted(unknown)}")
    for key, pattern in {**patterns, **only}.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"profile {raw.get('name', name_or_path)}: pattern {key!r} is invalid: {exc}")
    starts = set(parent.sentence_start) if raw.get("extends") else set()
    starts.update(raw.get("sentence_start", []))
    clauses = set(parent.needs_clause) if raw.get("extends") else set()
    clauses.update(raw.get("needs_clause", []))
    return Profile(raw.get("name", str(name_or_path)), patterns, tuple(sorted(scope.items())),
                   tuple(sorted(only.items())), frozenset(starts), frozenset(clauses))

"""Must-keep pattern profiles: the words compression may never drop.

Profiles are data: JSON files in ``whorf/profiles`` (or any path) with named regular expressions and an
optional ``extends``. ``seed`` is the seed's exact regex, ``default`` extends it (hex, versions,
key=value, IPs and ports, URLs, UUIDs and hashes, CVE/CWE ids, error codes, negations and directives).

A word is must-keep when any pattern of the profile matches inside it. Matching runs once over the whole
text and maps matches back to words; since no pattern matches whitespace, this is the same as searching
each word on its own, only faster. A profile's ``scope`` extends a pattern to the words after a match on
the same line: ``default`` keeps the two words after a negation, so "will not be restarted" cannot
come out as a bare "not".
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Sequence

from whorf.segment import Word

BUILTIN_PROFILES = ("seed", "default")


@dataclass(frozen=True)
class Profile:
    name: str
    patterns: dict[str, str]
    scope: tuple[tuple[str, int], ...] = ()  # (pattern name, n): a match also keeps the next n words of its line

    @property
    def regex(self) -> re.Pattern[str]:
        return _compile(tuple(self.patterns.values()))

    def must_keep(self, words: Sequence[Word], text: str) -> list[bool]:
        """For each word of ``text``, whether a pattern of this profile matches inside it (or it lies in
        the scope of a scoped match, such as the words a negation negates)."""
        flags = _flag(self.regex, words, text)
        for name, n in self.scope:
            for i, hit in enumerate(_flag(_compile((self.patterns[name],)), words, text)):
                if hit:
                    for j in range(i + 1, min(i + 1 + n, len(words))):
                        if words[j].line != words[i].line:
                            break
                        flags[j] = True
        return flags

    def matches(self, text: str) -> list[str]:
        """All non-empty matches of the profile in ``text`` (the units of exact_keep_pct)."""
        return [m.group() for m in self.regex.finditer(text) if m.group()]


def _flag(regex: re.Pattern[str], words: Sequence[Word], text: str) -> list[bool]:
    starts = [w.start for w in words]
    flags = [False] * len(words)
    for m in regex.finditer(text):
        i = bisect_right(starts, m.start()) - 1
        if i >= 0 and m.start() < words[i].end:
            flags[i] = True
    return flags


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
    scope: dict[str, int] = {}
    if raw.get("extends"):
        parent = load_profile(raw["extends"])
        patterns.update(parent.patterns)
        scope.update(parent.scope)
    patterns.update(raw.get("patterns", {}))
    scope.update({k: int(v) for k, v in raw.get("scope", {}).items()})
    unknown = set(scope) - set(patterns)
    if unknown:
        raise ValueError(f"profile {raw.get('name', name_or_path)}: scope names unknown patterns {sorted(unknown)}")
    for key, pattern in patterns.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"profile {raw.get('name', name_or_path)}: pattern {key!r} is invalid: {exc}")
    return Profile(raw.get("name", str(name_or_path)), patterns, tuple(sorted(scope.items())))

"""Phrases: the units prose words are kept or dropped in.

A chink-and-chunk chunker (Liberman and Church's rule for phrasing English text without a parser): a
phrase is a run of function words (the chinks: articles, pronouns, prepositions, conjunctions,
auxiliaries, negations) followed by the content words after them (the chunk). A new phrase starts at a
function word that follows a content word, after a word that ends a clause (``,`` ``;`` ``:`` ``.``
``!`` ``?``, an ellipsis or a dash, before closing quotes or emphasis; not ``e.g.``), at each new line and after ``MAX_PHRASE`` words. So

    Please | do not delete | the production database | under any circumstances, | even if the migration fails.

An object stays with its article and adjectives ("the production database"), a verb with its
auxiliaries and negation ("do not delete"), a prepositional phrase with its noun ("under any
circumstances"). The rule needs no tagger and no model: a closed word list, cheap enough to run on every
prose word, and the same at training and inference. Decisions on prose (``whorf.decide``) and the
training labels (``whorf.data.labels``) are made per phrase, so a phrase the chunker marks is kept or
dropped whole: "do not delete the" with its object gone cannot be written.

``PHRASES_VERSION`` changes whenever the rule or the word list does; a model records the version it was
trained with.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from whorf.segment import Word

PHRASES_VERSION = 2
MAX_PHRASE = 8  # words: a longer run without a function word (a list, an identifier soup) is cut here

_CLOSERS = "\"')\\]*_`\u2019\u201d\u00bb"  # what may follow a clause's punctuation: quotes, brackets, emphasis
_CLAUSE_END = re.compile(f"([,;:.!?\u2026\u2014\u2013])[{_CLOSERS}]*$")
_SENTENCE_END = re.compile(f"[.!?:\u2026][{_CLOSERS}]*$")
_ABBREVIATION = re.compile(r"(?i)^[(\[]?(e\.g|i\.e|vs|cf|approx|incl)\.,?$")  # "e.g." ends no clause
_STRIP = "\"'`*_([{<>}])\u2018\u2019\u201c\u201d"

# Closed classes of English, lowercase: what a phrase opens with.
FUNCTION_WORDS = frozenset("""
a an the this that these those such
my your his her its our their whose which what whatever whichever who whom
i me you he him she it we us they them myself yourself itself ourselves themselves
some any no every each either neither all both few many much more most several other another
of in on at to for with from by about into onto over under above below between among through throughout
during before after until till since without within against along across around behind beyond toward
towards upon via per than unlike despite except inside outside near
and or but nor so yet
if when whenever where wherever while whilst unless because although though whether once
as otherwise even only also just then else instead
not never n't don't doesn't didn't won't wouldn't can't cannot couldn't shouldn't mustn't isn't aren't
wasn't weren't hasn't haven't hadn't
is are was were be been being am do does did done have has had having
will would shall should can could may might must ought need
there here how why
""".split())


def key(word: str) -> str:
    """The lookup form of a word: lowercase, typographic apostrophes as ``'``, surrounding quotes, brackets
    and clause punctuation off."""
    return word.lower().replace("\u2019", "'").strip(_STRIP).rstrip(",;:.!?").strip(_STRIP)


def clause_end(word: str) -> str:
    """The mark that ends ``word``'s clause, or "": ``,`` ``;`` ``:`` ``.`` ``!`` ``?`` an ellipsis or a dash at
    its end, perhaps followed by closing quotes, brackets or emphasis (``done.**``), in a word that is no
    abbreviation (``e.g.``)."""
    m = _CLAUSE_END.search(word)
    return m.group(1) if m and not _ABBREVIATION.match(word) else ""


def ends_clause(word: str) -> bool:
    return bool(clause_end(word))


def ends_sentence(word: str) -> bool:
    return bool(_SENTENCE_END.search(word)) and not _ABBREVIATION.match(word)


def is_function(word: str) -> bool:
    return key(word) in FUNCTION_WORDS


# words that make what follows a subordinator a clause: auxiliaries and modals, and subject pronouns
_AUXILIARIES = frozenset("""am is are was were be been being has have had do does did can could will would shall
should may might must""".split())
_SUBJECTS = frozenset("i you he she it we they there someone anyone everyone something anything".split())
_DETERMINERS = frozenset("a an the this that these those my your his her its our their each every some any no".split())


def opens_clause(words: Sequence[Word], i: int, reach: int = 8) -> bool:
    """Whether the words after the subordinator at ``i`` ("before", "after", "until", "while", "once",
    "except") form a clause, not a noun phrase: "after the migration fails" and "before deploying" do,
    "after lunch" and "after a long discussion" do not. A clause: a verb in ``-ing`` right after it, a
    subject pronoun right after it, an auxiliary or modal in the clause, or a verb-shaped word (``-s``,
    ``-ed``) after a noun, within ``reach`` words and before the clause ends."""
    if ends_clause(words[i].text):
        return False
    first = key(words[i + 1].text) if i + 1 < len(words) and words[i + 1].line == words[i].line else ""
    if first.endswith("ing") and len(first) > 4 or first in _SUBJECTS:
        return True
    for j in range(i + 1, min(i + 1 + reach, len(words))):
        if words[j].line != words[i].line:
            return False
        w, before = key(words[j].text), key(words[j - 1].text)
        if w in _AUXILIARIES:
            return True
        if j >= i + 2 and before not in _DETERMINERS and before not in FUNCTION_WORDS and len(w) > 3 \
                and (w.endswith("ed") or (w.endswith("s") and not w.endswith("ss"))):
            return True
        if ends_clause(words[j].text):
            return False
    return False


def chunk(words: Sequence[Word]) -> np.ndarray:
    """The phrase of each word, as consecutive ids from 0 (words of one phrase are adjacent)."""
    ids = np.zeros(len(words), dtype=np.int64)
    phrase = size = 0
    prev_function = True
    prev: Word | None = None
    for i, word in enumerate(words):
        function = is_function(word.text)
        if prev is not None and (
            word.line != prev.line or ends_clause(prev.text) or size >= MAX_PHRASE or (function and not prev_function)
        ):
            phrase += 1
            size = 0
        ids[i] = phrase
        size += 1
        prev, prev_function = word, function
    return ids


def spans(ids: np.ndarray) -> list[tuple[int, int]]:
    """The ``[start, end)`` word ranges of the phrases ``chunk`` returned."""
    if len(ids) == 0:
        return []
    cuts = np.flatnonzero(np.diff(ids)) + 1
    starts = [0, *cuts.tolist()]
    ends = [*cuts.tolist(), len(ids)]
    return list(zip(starts, ends))


def whole(flags: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``flags`` widened to whole phrases: a phrase with one flagged word is flagged throughout."""
    if len(ids) == 0:
        return flags.astype(bool)
    hit = np.zeros(int(ids[-1]) + 1, dtype=bool)
    np.logical_or.at(hit, ids, np.asarray(flags, dtype=bool))
    return hit[ids]


def pooled(scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Each word's phrase mean score (the score a phrase is decided by), one value per word."""
    if len(ids) == 0:
        return np.asarray(scores, dtype=np.float32)
    n = int(ids[-1]) + 1
    sums = np.bincount(ids, weights=np.asarray(scores, dtype=np.float64), minlength=n)
    counts = np.bincount(ids, minlength=n)
    return (sums / np.maximum(counts, 1)).astype(np.float32)[ids]

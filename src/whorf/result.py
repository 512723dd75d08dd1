"""What a compression returns: the text, per-word decisions and scores, and the stats."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from whorf.structure.plan import Note, Omission

MARKER_FIELDS = ("handle", "unit", "count", "line", "reason")  # what --json and the proxy log say of an omission


@dataclass(slots=True)
class WordDecision:
    text: str
    start: int
    end: int
    line: int
    score: float
    kept: bool
    must_keep: bool
    by: str = "model"  # who decided: the word "model" or the "structure" (score 1.0 kept, 0.0 omitted)


@dataclass
class Stats:
    words: int = 0
    words_kept: int = 0
    word_keep_rate: float = 1.0  # words kept / words
    tokens_in: int = 0
    tokens_out: int = 0
    keep_rate: float = 1.0  # backbone tokens kept / tokens in (eval.metrics.keep_rate)
    must_keep_words: int = 0
    must_keep_survival: float = 1.0  # must-keep words kept / must-keep words
    chars_in: int = 0
    chars_out: int = 0
    domain: str = "prose"
    structure: str = ""  # the structural module that changed the input, if one did
    markers: int = 0  # omissions marked in the output
    omitted_units: int = 0  # lines, rows, items or records behind those markers
    omitted_by_reason: dict = field(default_factory=dict)  # units behind markers per reason (repetition, ...)
    query_terms: list = field(default_factory=list)  # the query's terms that singled out the units kept
    model: str = ""
    model_trained: bool = True
    runtime: str = ""
    mode: str = "threshold"
    override: bool = True
    ms: float = 0.0
    passthrough: str | None = None  # why the input went through unchanged, if it did

    def line(self) -> str:
        if self.passthrough:
            return f"whorf: passthrough ({self.passthrough}), {self.words} words unchanged"
        untrained = " UNTRAINED" if not self.model_trained else ""
        return (
            f"whorf: kept {self.words_kept}/{self.words} words ({self.word_keep_rate:.2f}), "
            f"tokens {self.tokens_in}->{self.tokens_out} (keep_rate {self.keep_rate:.2f}), "
            f"must-keep {self.must_keep_survival:.3f} of {self.must_keep_words}, domain={self.domain}, "
            + (f"{self.markers} markers for {self.omitted_units} omitted units, " if self.markers else "")
            + f"model={self.model}{untrained}, runtime={self.runtime}, {self.ms:.1f} ms"
        )


class Compressed:
    """One compression: the text, its stats and its omissions; ``words`` (every input word with its decision)
    is built when first asked for (``--json``, ``explain``, the dashboard, training data), not on every call.
    ``words`` may be given as a list, or as a function of an optional limit (the first N words).
    ``omissions`` (:class:`whorf.structure.plan.Omission`, one per marker in the output, in order) carry the
    handle ``whorf retrieve`` takes, the unit, the count, the first input line, the reason and the original;
    ``markers`` is the same list under the name the output shows."""

    __slots__ = ("text", "_words", "stats", "original", "omissions", "notes")

    def __init__(self, text: str, words: list[WordDecision] | Callable[..., list[WordDecision]] | None = None,
                 stats: Stats | None = None, original: str = "", omissions: list[Omission] | None = None,
                 notes: list[Note] | None = None):
        self.text = text
        self._words = words if words is not None else []
        self.stats = stats if stats is not None else Stats()
        self.original = original
        self.omissions = omissions or []
        self.notes = notes or []  # what the structure decided, line by line

    @property
    def markers(self) -> list[Omission]:
        """The omissions, one per marker in the output."""
        return self.omissions

    @property
    def words(self) -> list[WordDecision]:
        if callable(self._words):
            self._words = self._words()
        return self._words

    def first_words(self, limit: int) -> list[WordDecision]:
        """The decisions of the first ``limit`` words (without building the rest)."""
        if callable(self._words):
            return self._words(limit)
        return self._words[:limit]

    def __getstate__(self) -> dict:  # pickled (to a worker's parent, a Ray task) with its words built
        return {name: (self.words if name == "_words" else getattr(self, name)) for name in self.__slots__}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"Compressed(text={self.text!r}, stats={self.stats!r}, markers={self.markers!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Compressed) and (self.text, self.words, self.stats, self.omissions) == \
            (other.text, other.words, other.stats, other.omissions)

    def to_dict(self, words: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"compressed": self.text, "stats": asdict(self.stats),
                               "markers": [{k: getattr(o, k) for k in MARKER_FIELDS} for o in self.omissions]}
        if words:
            out["words"] = [asdict(w) for w in self.words]
        return out

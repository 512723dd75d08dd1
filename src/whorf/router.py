"""One router: where a text goes, decided once.

``route(text)`` returns a :class:`Route`: ``domain``, the label the word model reads before a window (its
domain prefix and threshold bias; the rule-based router of :mod:`whorf.domain`, the labels the shipped
models were trained with, kept as they are), and ``shape``, the structure module that decides the text
(:func:`whorf.structure.shape`: the label refined by the modules' own detectors, such as a commit log the
router calls prose). ``Stats.structure`` names the shape when the structural stage changed the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from whorf import domain as domains
from whorf import structure
from whorf.doc import Doc


@dataclass(frozen=True, slots=True)
class Route:
    domain: str  # the word model's label (domain prefix, threshold bias)
    shape: str  # the structure module (structure.MODULES key)


def route(text: str | Doc, domain: str | None = None) -> Route:
    """Where ``text`` goes; ``domain`` forces the model's label (the shape is still detected). Pass the
    :class:`~whorf.doc.Doc` the plan will read, so that both read the text once."""
    doc = Doc.of(text)
    label = domains.normalize(domain) or domains.route(doc)
    return Route(label, structure.shape(doc, label))

"""Rows with word-level keep labels: one function turns every supervised format into labels."""

from __future__ import annotations

from dataclasses import dataclass

from whorf import domain as domains
from whorf.data import Row
from whorf.data.labels import Labels, label
from whorf.segment import Segmented, segment


@dataclass
class LabelledRow:
    row: Row
    words: list[str]
    labels: Labels
    domain: str
    seg: Segmented | None = None


def label_row(row: Row, rule: str = "aligned", profile: str = "default") -> LabelledRow:
    """Labels for one row; ValueError says why a row cannot be labelled."""
    if row.kind == "unlabelled":
        raise ValueError("no labels (unlabelled text)")
    seg = segment(row.text)
    if not seg.words:
        raise ValueError("no words")
    labels = label(seg, reference=row.reference, spans=row.spans, word_labels=row.word_labels, rule=rule, profile=profile)
    return LabelledRow(row, [w.text for w in seg.words], labels, domains.route(row.text), seg)


def label_rows(rows: list[Row], rule: str, profile: str) -> tuple[list[LabelledRow], list[tuple[Row, str]]]:
    """Labelled rows, and the rows that could not be labelled with the reason."""
    out: list[LabelledRow] = []
    failed: list[tuple[Row, str]] = []
    for row in rows:
        try:
            out.append(label_row(row, rule, profile))
        except ValueError as exc:
            failed.append((row, str(exc)))
    return out, failed

"""The structural stage: decide in the structure's own unit (record, line, block) before any word is scored.

``plan(text, domain)`` returns a :class:`~whorf.structure.plan.Plan`; only its ``words`` pieces (prose,
messages, code) go on to the word model. See SPEC 2b.
"""

from __future__ import annotations

from whorf.structure.plan import Note, Omission, Piece, Plan, whole


def plan(text: str, domain: str) -> Plan:
    """The structural plan for ``text`` routed as ``domain``."""
    if domain == "json":
        from whorf.structure import jsondoc

        return jsondoc.plan(text)
    if domain == "log":
        from whorf.structure import logs

        return logs.plan(text)
    if domain == "table":
        from whorf.structure import tables

        return tables.plan(text)
    if domain == "search":
        from whorf.structure import search

        return search.plan(text)
    if domain == "diff":
        from whorf.structure import diffs

        return diffs.plan(text)
    if domain == "diagnostics":
        from whorf.structure import diagnostics

        return diagnostics.plan(text)
    return whole(text, domain, "words")


__all__ = ["plan", "Plan", "Piece", "Omission", "Note"]

"""The structural stage: decide in the structure's own unit (record, line, block) before any word is scored.

``plan(text, domain)`` returns a :class:`~whorf.structure.plan.Plan`; only its ``words`` pieces (prose,
messages, code) go on to the word model. See SPEC 2b.
"""

from __future__ import annotations

from importlib import import_module

from whorf.structure.plan import Note, Omission, Piece, Plan, whole


# One module per structure, imported when first needed; code and prose have none (the word model reads them).
MODULES = {"json": "jsondoc", "log": "logs", "table": "tables", "search": "search", "diff": "diffs",
           "diagnostics": "diagnostics"}


def plan(text: str, domain: str) -> Plan:
    """The structural plan for ``text`` routed as ``domain``."""
    name = MODULES.get(domain)
    if name is None:
        return whole(text, domain, "words")
    return import_module(f"whorf.structure.{name}").plan(text)


__all__ = ["plan", "Plan", "Piece", "Omission", "Note"]

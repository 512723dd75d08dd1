"""The structural stage: decide in the structure's own unit (record, line, block) before any word is scored.

``plan(text, domain, budget_chars)`` returns a :class:`~whorf.structure.plan.Plan`. Outside prose every
output line is an input line byte for byte or a marker (or, for JSON, a lossless re-encoding whose scalars
are the input's bytes); only the ``words`` pieces of prose (sentences and paragraphs, also those of a
README or an issue) go on to the word model. Code is never handed to it.

Each function takes the text or its :class:`whorf.doc.Doc` (what is read of the text, computed once, so
routing and planning share its lines and its JSON parse). ``shape(text, domain)`` picks the module: the
domain router's label, refined by the modules' own
detectors for shapes the label does not tell apart (commit logs, test-runner reports the router took for
a log, numbered code reads, source files the router took for prose, aligned tables without a header,
tables under a rule the router took for a log, logs whose lines begin with a file name).
"""

from __future__ import annotations

from importlib import import_module

from whorf.doc import Doc
from whorf.structure.plan import Note, Omission, Piece, Plan, whole

# One module per structure, imported when first needed.
MODULES = {"json": "jsondoc", "log": "logs", "table": "tables", "search": "search", "diff": "diffs",
           "diagnostics": "diagnostics", "gitlog": "gitlog", "code": "code", "prose": "prose"}


def shape(text: str | Doc, domain: str) -> str:
    """The structure module's name for ``text`` routed as ``domain``."""
    if domain in ("json", "diff"):
        return domain
    from whorf.domain import is_table
    from whorf.structure import code, diagnostics, gitlog, logs, tables

    doc = Doc.of(text)
    sample = doc.head
    if gitlog.detect(sample):
        return "gitlog"
    if domain in ("log", "prose", "table") and diagnostics.detect(sample):
        return "diagnostics"
    if domain == "search" and logs.prefixed(sample):
        return "log"
    if code.numbered(sample):
        return "code"
    if domain == "prose" and (code.detect(sample) or code.python_source(doc.text)):
        return "code"
    if domain == "prose" and tables.aligned(sample):
        return "table"
    if domain == "log" and is_table(doc.sample, by_rule=True):
        return "table"  # pip list: columns under a rule, header cells of several words
    return domain if domain in MODULES else "prose"


def plan(text: str | Doc, domain: str, budget_chars: int | None = None, query: str | None = None) -> Plan:
    """The structural plan for ``text`` routed as ``domain``; over ``budget_chars`` whole units go, those
    least relevant to ``query`` (the agent's intent) first. Without a budget the query changes nothing."""
    doc = Doc.of(text)
    return plan_shape(doc, shape(doc, domain), budget_chars, query)


def plan_shape(text: str | Doc, name: str, budget_chars: int | None = None, query: str | None = None) -> Plan:
    """The plan of the structure module ``name`` (a shape already routed: ``whorf.router.route``). Each
    module's ``plan`` takes the document (``whorf.doc.Doc``: its lines split once) or a string."""
    return import_module(f"whorf.structure.{MODULES[name]}").plan(Doc.of(text), budget_chars, query)


__all__ = ["plan", "plan_shape", "shape", "Plan", "Piece", "Omission", "Note", "whole"]

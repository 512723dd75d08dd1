"""Markers: how an omission looks in the output, in one documented format.

Line-shaped outputs (logs, tables, listings, search results, diffs, diagnostics) get a marker line in place
of each run of omitted lines::

    [37 similar lines omitted; whorf:1f2e3d4c5b6a]
    [12 similar lines omitted, varying 1201..1240, 12 distinct; whorf:1f2e3d4c5b6a]
    [40 more paths omitted, under src/whorf/; whorf:1f2e3d4c5b6a]

A marker says how many units it stands for, what varied among them (at most two fields) and the handle,
in as few tokens as that takes; a run is collapsed only when its marker pays for itself
(:func:`pays`: it costs at most two thirds of the o200k tokens of the lines it replaces).
The older, longer form (``[... 37 similar lines omitted; whorf:... ...]``) is still recognised.

JSON arrays get a marker element in place of each run of omitted items (the document stays JSON)::

    {"whorf_omitted": 47, "shared": {"status": "success"}, "handle": "whorf:1f2e3d4c5b6a"}

The handle names the omitted original, byte for byte, in the local store (``whorf retrieve HANDLE``).
Counts add up: kept units plus the counts of all markers equal the units of the input.
"""

from __future__ import annotations

import json
import re

UNITS = {"line": ("line", "lines"), "row": ("row", "rows"), "item": ("item", "items"),
         "match": ("match", "matches"), "frame": ("frame", "frames"), "record": ("record", "records"),
         "path": ("path", "paths"), "commit": ("commit", "commits")}

# What a marker line looks like; used by tests and by anyone stripping markers from the output.
MARKER_LINE = re.compile(
    r"^\s*\[(?:\.\.\. )?(\d+) (?:[\w-]+ )?(\w+) omitted(?:, [^\n]*)?; (whorf:[0-9a-f]{8,})(?: \.\.\.)?\]$")
HANDLE = re.compile(r"whorf:[0-9a-f]{8,}")
JSON_MARKER = re.compile(r'\{"whorf_omitted": \d+, (?:"shared": \{.*?\}, )?"handle": "whorf:[0-9a-f]{8,}"\},?')
JSON_KEY = "whorf_omitted"


def line_marker(count: int, unit: str, handle: str, *, adjective: str = "similar", varying: list[str] | None = None,
                indent: str = "", detail: str | None = None) -> str:
    """One marker line (without its line ending)."""
    one, many = UNITS.get(unit, (unit, unit + "s"))
    noun = one if count == 1 else many
    extra = (f", varying {', '.join(varying)}" if varying else "") + (f", {detail}" if detail else "")
    lead = f"{adjective} " if adjective else ""
    return f"{indent}[{count} {lead}{noun} omitted{extra}; {handle}]"


PAYS = 2 / 3  # a marker may cost at most this share of the tokens of what it replaces


def pays(marker: str, original: str) -> bool:
    """Whether ``marker`` costs clearly fewer o200k tokens than ``original`` (at most two thirds)."""
    from whorf import tokens

    return tokens.count(marker) <= PAYS * tokens.count(original)


def json_marker(count: int, handle: str, shared: dict) -> dict:
    """One marker element for a JSON array."""
    element: dict = {JSON_KEY: count}
    if shared:
        element["shared"] = shared
    element["handle"] = handle
    return element


def json_marker_text(count: int, handle: str, shared: dict) -> str:
    return json.dumps(json_marker(count, handle, shared), ensure_ascii=False, separators=(", ", ": "))


def strip_markers(text: str) -> str:
    """The text with marker lines and JSON marker elements removed (for the subsequence invariant and for
    metrics)."""
    text = JSON_MARKER.sub("", text)
    return "".join(ln for ln in text.splitlines(keepends=True) if not MARKER_LINE.match(ln.rstrip("\r\n")))

"""Agent envelopes: the header an agent CLI puts around a tool output before the model reads it.

Codex wraps every exec output in lines of its own, then the program's output::

    Chunk ID: 4f1c2a                      Exit code: 0
    Wall time: 0.0521 seconds             Wall time: 0.3 seconds
    Process exited with code 0            Output:
    Original token count: 2613            <the program's output>
    Output:
    <the program's output>

Behind such a header a ``git log --stat`` no longer starts with ``commit <sha>`` and was taken for another
shape. :func:`split` finds the header (at least two known fields, then ``Output:``), so the body is decided
by its own shape and the header is put back byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FIELD = re.compile(r"(?:Chunk ID|Wall time|Process exited with code|Process running with session ID|"
                    r"Original token count|Exit code|Total output lines)\b[^\n]*\r?\n")
_OUTPUT = re.compile(r"Output:[ \t]*\r?\n")
MAX_FIELDS = 12


@dataclass(frozen=True, slots=True)
class Envelope:
    header: str  # the envelope's own lines, ``Output:`` included
    body: str  # the program's output


def split(text: str) -> Envelope | None:
    """The envelope around ``text``, or None when it has none."""
    at = fields = 0
    while fields < MAX_FIELDS and (m := _FIELD.match(text, at)):
        at, fields = m.end(), fields + 1
    out = _OUTPUT.match(text, at) if fields >= 2 else None
    if out is None or out.end() >= len(text):
        return None
    return Envelope(text[:out.end()], text[out.end():])

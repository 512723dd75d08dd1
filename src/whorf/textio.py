"""Turning untrusted bytes into text, or deciding they must pass through untouched."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Decoded:
    text: str
    passthrough: str | None = None  # why this input must not be compressed

    def encode(self) -> bytes:
        """The original bytes back, exactly (invalid UTF-8 survives through surrogate escapes)."""
        return self.text.encode("utf-8", errors="surrogateescape")


def decode(data: bytes) -> Decoded:
    """UTF-8 text; binary data or invalid UTF-8 is flagged for passthrough, never altered."""
    text = data.decode("utf-8", errors="surrogateescape")
    if b"\x00" in data[:65536]:
        return Decoded(text, "binary input")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Decoded(text, f"invalid UTF-8 at byte {exc.start}")
    return Decoded(text)


def has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# Characters that may stand raw inside a JSON string but break the line a JSON line lives on: U+0085,
# U+2028 and U+2029 end lines for str.splitlines (and older JavaScript), and a lone surrogate (from an
# escaped "\ud800" in the input, or from bytes decoded with surrogateescape) cannot be encoded as UTF-8.
_LINE_UNSAFE = re.compile("[\u0085\u2028\u2029\ud800-\udfff]")


def json_line(obj: Any) -> bytes:
    """``obj`` as one line of JSON (newline included) that survives any line splitter: non-ASCII text
    stays readable, while the characters above are written as ``\\uXXXX`` escapes. A lone surrogate from
    surrogateescape-decoded bytes comes back as the same surrogate, so
    ``json.loads(line)[...].encode("utf-8", "surrogateescape")`` gives the original bytes.
    Raises ValueError for NaN or infinity, which JSON cannot hold."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    return _LINE_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8") + b"\n"

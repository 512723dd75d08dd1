"""Turning untrusted bytes into text, or deciding they must pass through untouched."""

from __future__ import annotations

from dataclasses import dataclass


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

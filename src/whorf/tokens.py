"""Token counts with a real tokenizer: o200k_base (the encoding of OpenAI's current models), from quicktok,
which bundles its vocabulary (no download). Used where a decision depends on what a line costs a reader,
such as whether a marker pays for the lines it stands for. Claude's tokenizer is not public; o200k is the
nearest public one, and characters / 4 is only an estimate.
"""

from __future__ import annotations

from functools import lru_cache

ENCODING = "o200k_base"


@lru_cache(maxsize=1)
def _encoder():
    import quicktok

    return quicktok.get_encoding(ENCODING)


def count(text: str) -> int:
    """The number of o200k_base tokens of ``text``."""
    if not text:
        return 0
    return len(_encoder().encode(text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")))

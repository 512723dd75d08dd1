"""Why a text, or its prose, stays whole: every passthrough the compressor decides, in one place.

Three rules, in the order the compressor asks them:

- ``admit``: the input itself (bytes that are not UTF-8 text, surrogates, nothing but whitespace, over
  ``max_chars``) passes through before routing;
- ``prose_floor``: after the structural plan, prose of fewer than ``min_prose_words`` words is not handed to
  the word model (a short message loses more meaning than it saves tokens);
- ``saving_floor``: after the model decided, deletions that would save fewer than ``min_saving_tokens``
  tokens are undone (the decision is all or nothing for one text's prose).

Each returns the reason as the stats report it (``Stats.passthrough``), or None.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from whorf.config import CompressOptions
from whorf.structure.plan import Plan
from whorf.textio import decode, has_surrogates


def admit(raw: str | bytes, opts: CompressOptions) -> tuple[str, str | None]:
    """The text to compress and why it passes through whole (None: it is compressed)."""
    if isinstance(raw, (bytes, bytearray)):
        decoded = decode(bytes(raw))
        text, reason = decoded.text, decoded.passthrough
    elif isinstance(raw, str):
        text, reason = raw, ("invalid UTF-8 (surrogates)" if has_surrogates(raw) else None)
    else:
        raise TypeError(f"compress takes str or bytes, not {type(raw).__name__}")
    if reason:
        return text, reason
    if not text.strip():
        return text, "empty input"
    if len(text) > opts.max_chars:
        return text, f"input of {len(text)} characters is over max_chars={opts.max_chars}"
    return text, None


def prose_floor(text: str, plan: Plan, opts: CompressOptions) -> str | None:
    """Why the plan's prose (its ``words`` pieces) stays whole: too few words to be worth deleting any."""
    if not opts.structure or opts.min_prose_words <= 0:
        return None
    words = sum(len(text[p.start:p.end].split()) for p in plan.pieces if p.kind == "words")
    if 0 < words < opts.min_prose_words:
        return f"prose under the gain floor ({words} words < min_prose_words={opts.min_prose_words})"
    return None


def saving_floor(dropped: Iterable[str], count: Callable[[Sequence[str]], int], opts: CompressOptions) -> str | None:
    """Why the model's deletions are undone: the ``dropped`` words would save fewer than
    ``min_saving_tokens`` tokens (``count``: the model's token count of a word list). ``dropped`` may be a
    generator: it is read only when the floor is on."""
    if not opts.structure or opts.min_saving_tokens <= 0:
        return None
    words = list(dropped)
    if not words:
        return None
    saved = count(words)
    if 0 < saved < opts.min_saving_tokens:
        return f"prose under the gain floor (deleting would save {saved} tokens < min_saving_tokens={opts.min_saving_tokens})"
    return None

"""More prose for training, from what a machine already holds: the READMEs of installed Python packages
(their long descriptions), the Python language reference bundled with the interpreter (``pydoc_data``) and
the README/markdown files of documentation directories such as /usr/share/doc.

The texts are real repositories' prose (what an agent reads in a README, a changelog, a doc page); they
carry no labels: the teacher with its must-keep override labels them (:func:`whorf.loop.selflabel.self_label`),
as the self-labelling loop does. Only prose goes in: code blocks, tables, HTML, badge and link-only lines,
directives and headings-only runs are dropped, and what remains is cut into chunks of whole paragraphs.
The choice is deterministic (sources sorted by name, chunks chosen by text hash), so the same machine gives
the same file.
"""

from __future__ import annotations

import gzip
import importlib.metadata as metadata
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from whorf import data as datasets
from whorf.lexicon import FENCE, LIST_ITEM


@dataclass(frozen=True)
class ProseConfig:
    min_words: int = 40  # a chunk shorter than this is dropped
    max_words: int = 220  # paragraphs are joined up to this many words
    per_source: int = 16  # chunks kept per package (by text hash), so no package's documentation dominates
    min_letters: float = 0.7  # share of a paragraph's characters that are letters or spaces


MAX_FILE_BYTES = 4_000_000  # a documentation file read whole up to this size; larger ones are skipped
_DROP = re.compile(
    r"^\s*(\||\+[-=+]+\+|<|\.\. |:[a-z-]+:|!\[|\[!\[|\[[^\]]*\]:\s|[-=~^*#]{3,}\s*$|>>>|\$ |\s{4,}\S)"
)
_HEADING = re.compile(r"^\s*#{1,6}\s")
_LINK_ONLY = re.compile(r"^\s*(\[[^\]]*\]\([^)]*\)\s*)+$|^\s*https?://\S+\s*$")


def paragraphs(text: str) -> Iterator[str]:
    """The prose paragraphs of a markdown or reStructuredText document, each on one line."""
    fenced, block = False, []
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        dropped = fenced or _DROP.match(line) or _LINK_ONLY.match(line) or line.rstrip().endswith("::")
        item = not dropped and LIST_ITEM.match(line)  # a list item starts a paragraph of its own
        if dropped or item or not line.strip() or _HEADING.match(line):
            if block:
                yield " ".join(block)
            block = []
            if not item:
                continue
        block.append(line.strip())
    if block and not fenced:
        yield " ".join(block)


def _proselike(paragraph: str, cfg: ProseConfig) -> bool:
    letters = sum(c.isalpha() or c == " " for c in paragraph)
    return len(paragraph.split()) >= 8 and letters >= cfg.min_letters * len(paragraph) and paragraph[-1:] in ".!?:)"


def chunks(text: str, cfg: ProseConfig = ProseConfig()) -> list[str]:
    """Whole prose paragraphs joined (blank line between) into chunks of ``min_words``..``max_words`` words."""
    out, current, words = [], [], 0
    for para in paragraphs(text):
        if not _proselike(para, cfg):
            continue
        n = len(para.split())
        if current and words + n > cfg.max_words:
            out.append("\n\n".join(current))
            current, words = [], 0
        if n <= cfg.max_words:
            current.append(para)
            words += n
    if current:
        out.append("\n\n".join(current))
    return [c for c in out if len(c.split()) >= cfg.min_words]


def package_readmes() -> Iterator[tuple[str, str]]:
    """(``pypi:name``, long description) of every installed distribution that has one, sorted by name."""
    seen: dict[str, str] = {}
    for dist in metadata.distributions():
        name = (dist.metadata.get("Name") or "").lower()
        body = dist.metadata.get_payload() or dist.metadata.get("Description") or ""
        if name and name not in seen and isinstance(body, str) and body.strip():
            seen[name] = body
    for name in sorted(seen):
        yield f"pypi:{name}", seen[name]


def python_reference() -> Iterator[tuple[str, str]]:
    """(``pydoc:topic``, text) of the language reference topics bundled with this Python, sorted by topic."""
    try:
        from pydoc_data.topics import topics
    except ImportError:  # some distributions strip pydoc_data
        return
    for name in sorted(topics):
        yield f"pydoc:{name}", topics[name]


def doc_files(roots: Iterable[str | Path]) -> Iterator[tuple[str, str]]:
    """(``doc:package/relative/path``, text) of README and markdown files (gzipped or not) under ``roots``,
    sorted by path; the package is the first directory under the root (a file at the top: its own name)."""
    for root in map(Path, roots):
        found = [p for p in root.rglob("*") if p.is_file() and _doc_name(p.name)]
        for path in sorted(found):
            try:
                with (gzip.open(path) if path.suffix == ".gz" else path.open("rb")) as f:
                    raw = f.read(MAX_FILE_BYTES + 1)
                if len(raw) <= MAX_FILE_BYTES:  # a larger file (or gzip bomb) is not documentation prose
                    yield f"doc:{path.relative_to(root).as_posix()}", raw.decode("utf-8")
            except (OSError, UnicodeDecodeError, EOFError, zlib.error):  # gzip.BadGzipFile is an OSError
                continue


def _doc_name(name: str) -> bool:
    base = name[:-3] if name.endswith(".gz") else name
    return base.lower().startswith("readme") or base.endswith((".md", ".markdown", ".rst"))


def collect(sources: Iterable[tuple[str, str]], cfg: ProseConfig = ProseConfig(), limit: int | None = None) -> list[datasets.Row]:
    """Unlabelled prose rows, at most ``per_source`` per package (a source name up to its first ``/``), each
    text once; ``limit``: at most that many rows. Both choices go by the rows' text hash (``Row.key``)."""
    by_package: dict[str, list[tuple[str, datasets.Row]]] = {}
    for source, text in sources:
        found = (datasets.Row(text=c, kind="unlabelled", domain="prose", source=source) for c in chunks(text, cfg))
        by_package.setdefault(source.split("/")[0], []).extend((row.key, row) for row in found)
    keyed, seen = [], set()
    for package in sorted(by_package):
        for key, row in sorted(by_package[package], key=lambda kr: (kr[0], kr[1].source))[: cfg.per_source]:
            if row.text not in seen:
                seen.add(row.text)
                keyed.append((key, row))
    if limit is not None and len(keyed) > limit:
        keep = set(sorted(range(len(keyed)), key=lambda i: keyed[i][0])[:limit])
        keyed = [kr for i, kr in enumerate(keyed) if i in keep]
    return [row for _, row in keyed]

"""How every bench writes its report: the JSON (the figures ``bench/docs.py`` reads), and the page rendered
whole from it beside it (``NAME.md``) when the bench has one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable


def write(path: str | Path, data: Any, page: Callable[[Any], str] | None = None, indent: int = 1,
          ascii: bool = True) -> Path:
    """Write ``data`` to ``path`` as JSON (UTF-8, a final newline) and ``page(data)`` to ``path`` with ``.md``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent, ensure_ascii=ascii) + "\n", encoding="utf-8")
    if page is not None:
        path.with_suffix(".md").write_text(page(data), encoding="utf-8")
    return path

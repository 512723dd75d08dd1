"""``whorf retrieve HANDLE``: print what a marker omitted, byte for byte."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from whorf.cli.app import UserError, app, handle_errors


@app.command()
@handle_errors
def retrieve(
    handle: str = typer.Argument(..., help="A marker's handle, e.g. whorf:1f2e3d4c."),
    store: Optional[Path] = typer.Option(None, "--store", help="Store file (default: the cache directory's)."),
) -> None:
    """Print the original that a marker ([... N similar lines omitted; whorf:HANDLE ...]) stands for."""
    from whorf.store import HANDLE_TEXT, Store

    if not HANDLE_TEXT.fullmatch(handle.strip()):
        raise UserError(f"{handle!r} is not a handle (whorf: and hex digits, as in a marker)")
    original = Store(store).get(handle)
    if original is None:
        raise UserError(f"no original stored under {handle} (unknown, or expired)")
    sys.stdout.buffer.write(original.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()

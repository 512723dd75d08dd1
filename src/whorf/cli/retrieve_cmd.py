"""``whorf retrieve HANDLE``: print what a marker omitted, byte for byte; ``whorf store``: where the store
of omitted originals is, whether it is sound, and starting it afresh."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from whorf.cli.app import UserError, app, err, handle_errors

store_app = typer.Typer(help="The local store of omitted originals (what markers' handles name).", no_args_is_help=True)
app.add_typer(store_app, name="store")
STORE_OPT = typer.Option(None, "--store", help="Store file (default: the cache directory's store.sqlite).")


@app.command()
@handle_errors
def retrieve(
    handle: str = typer.Argument(..., help="A marker's handle, e.g. whorf:1f2e3d4c5b6a."),
    store: Optional[Path] = STORE_OPT,
) -> None:
    """Print the original that a marker ([... N similar lines omitted; whorf:HANDLE ...]) stands for."""
    from whorf.store import HANDLE_TEXT, Store

    if not HANDLE_TEXT.fullmatch(handle.strip()):
        raise UserError(f"{handle!r} is not a handle (whorf: and hex digits, as in a marker)")
    where = Store(store)
    original = where.get(handle)
    if original is None:
        raise UserError(f"no original stored under {handle} in {where.path} (unknown, or expired)")
    sys.stdout.buffer.write(original.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()


@store_app.command("path")
@handle_errors
def store_path(store: Optional[Path] = STORE_OPT) -> None:
    """Print the store's file."""
    from whorf.store import Store

    print(Store(store).path)


@store_app.command("check")
@handle_errors
def store_check(store: Optional[Path] = STORE_OPT) -> None:
    """Check the store's file (exit 1 when it is not a sound store; `whorf store reset` starts it afresh)."""
    from whorf.store import Store

    where = Store(store)
    problem = where.check()
    if problem:
        err.print(f"{where.path}: {problem}; `whorf store reset` starts it afresh (compression works meanwhile)", markup=False)
        raise typer.Exit(1)
    print(f"{where.path}: ok" if where.path.is_file() else f"{where.path}: not created yet")


@store_app.command("stats")
@handle_errors
def store_stats(store: Optional[Path] = STORE_OPT) -> None:
    """Print the store's file, how many originals it holds and its size."""
    import json

    from whorf.store import Store

    print(json.dumps(Store(store).stats()))


@store_app.command("reset")
@handle_errors
def store_reset(store: Optional[Path] = STORE_OPT) -> None:
    """Delete the store's file: markers already printed no longer resolve; new ones do."""
    from whorf.store import Store

    where = Store(store)
    where.reset()
    print(f"{where.path}: reset")

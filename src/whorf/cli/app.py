"""The typer application and the error policy every command shares: one clear line, never a traceback."""

from __future__ import annotations

import functools
import logging
import os
import sys
from typing import Callable

import typer
from rich.console import Console

app = typer.Typer(
    name="whorf",
    help="Compress what LLM agents read, keeping the words that name the concept.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, soft_wrap=True)


class UserError(Exception):
    """An error the user can fix; printed as one line."""


def require_files(paths) -> None:
    """One clear error for the first data file that does not exist."""
    for path in paths:
        if not path.is_file():
            raise UserError(f"data file {path} does not exist")


def handle_errors(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            err.print("whorf: interrupted")
            raise typer.Exit(130)
        except (UserError, ValueError, FileNotFoundError, NotADirectoryError, PermissionError, OSError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            err.print(f"whorf: error: {msg}", markup=False, highlight=False)
            raise typer.Exit(2)
        except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into one line
            if os.environ.get("WHORF_DEBUG"):
                raise
            err.print(f"whorf: error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                      markup=False, highlight=False)
            raise typer.Exit(1)

    return wrapper


def quiet_libraries() -> None:
    """Keep library chatter (progress bars, notices) off the user's terminal."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    logging.getLogger("whorf").setLevel(logging.ERROR)
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)


def main() -> None:
    from whorf.cli import compress_cmd, eval_cmd, loop_cmd, proxy_cmd, train_cmd  # noqa: F401 - registers the commands

    quiet_libraries()
    app()


if __name__ == "__main__":
    sys.exit(main())

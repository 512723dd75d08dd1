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
    rich_markup_mode=None,  # plain help: typer's rich help imports rich.markdown/markdown_it (~0.3 s at start-up)
)
err = Console(stderr=True, soft_wrap=True)


class UserError(Exception):
    """An error the user can fix; printed as one line."""


def require_files(paths) -> None:
    """One clear error for the first data file that does not exist."""
    for path in paths:
        if path.is_dir():
            raise UserError(f"data file {path} is a directory: give the JSONL files in it")
        if not path.is_file():
            raise UserError(f"data file {path} does not exist")


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an exception's message (some libraries start theirs with a newline)."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), "")


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
            err.print(f"whorf: error: {first_line(exc) or type(exc).__name__}", markup=False, highlight=False)
            raise typer.Exit(2)
        except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into one line
            if os.environ.get("WHORF_DEBUG"):
                raise
            err.print(f"whorf: error: {type(exc).__name__}: {first_line(exc)}", markup=False, highlight=False)
            raise typer.Exit(1)

    return wrapper


# Library notices that are noise on a user's terminal, filtered by message (never by category alone).
QUIET_WARNINGS = (
    (r".*TypedStorage is deprecated.*", UserWarning),
    (r".*`resume_download` is deprecated.*", FutureWarning),
    (r".*You passed along `num_labels`.*", UserWarning),
    (r"All adapters are already merged.*", UserWarning),
    (r"Converting a tensor to a Python boolean might cause the trace to be incorrect.*", Warning),
    (r".*torch\.onnx.*", (UserWarning, DeprecationWarning, FutureWarning)),
)
QUIET_MODULES = ("torch.onnx", "onnxruntime.quantization", "onnxruntime.transformers", "transformers.modeling_utils")
COMMANDS = ("batch_cmd", "compress_cmd", "eval_cmd", "loop_cmd", "proxy_cmd", "train_cmd", "retrieve_cmd", "wrap_cmd", "ship_cmd")


def quiet_libraries() -> None:
    """Keep library chatter (progress bars, notices) off the user's terminal without importing the
    libraries: transformers' verbosity is set through its environment variables, warnings are
    filtered by message and by the module that raises them."""
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.getLogger("whorf").setLevel(logging.WARNING)  # whorf's own warnings (a stale graph, an untrained model) show
    logging.getLogger("onnxruntime").setLevel(logging.ERROR)
    root = logging.getLogger()
    if not any(isinstance(f, _QuietModules) for f in root.filters):
        root.addFilter(_QuietModules())  # onnxruntime.quantization logs its notices on the root logger
    for message, category in QUIET_WARNINGS:
        for cat in category if isinstance(category, tuple) else (category,):
            warnings.filterwarnings("ignore", message=message, category=cat)
    for module in QUIET_MODULES:
        warnings.filterwarnings("ignore", module=module.replace(".", r"\.") + r".*")


class _QuietModules(logging.Filter):
    """Drops records below ERROR that come from the modules in QUIET_MODULES."""

    def filter(self, record: logging.LogRecord) -> bool:
        path = record.pathname.replace(os.sep, "/")
        noisy = any("/" + m.replace(".", "/") + "/" in path or path.endswith("/" + m.replace(".", "/") + ".py")
                    for m in QUIET_MODULES)
        return record.levelno >= logging.ERROR or not noisy


def register_commands() -> None:
    """Import every command module (each registers its commands on ``app`` when imported)."""
    import importlib

    for name in COMMANDS:
        importlib.import_module(f"whorf.cli.{name}")


def main() -> None:
    register_commands()
    quiet_libraries()
    app()


if __name__ == "__main__":
    sys.exit(main())

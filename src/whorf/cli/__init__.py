"""The ``whorf`` command line: a thin layer over the Python API."""

from whorf.cli.app import app, main

__all__ = ["app", "main"]

"""Where models live: the models shipped in the package, the local registry, and plain paths."""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

from whorf.config import CONFIG_FILE

DEFAULT_MODEL = "whorf-mini"
UNTRAINED = "untrained"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "whorf"


def registry_dir() -> Path:
    return cache_dir() / "models"


def shipped(name: str) -> Path | None:
    path = Path(str(resources.files("whorf") / "models" / name))
    return path if (path / CONFIG_FILE).is_file() else None


def find(name_or_path: str) -> Path | None:
    """The model directory for a name or path; None for the default when it is not shipped."""
    path = Path(name_or_path).expanduser()
    if (path / CONFIG_FILE).is_file():
        return path
    found = shipped(name_or_path)
    if found:
        return found
    registered = registry_dir() / name_or_path
    if (registered / CONFIG_FILE).is_file():
        return registered
    if name_or_path in (DEFAULT_MODEL, UNTRAINED):
        return None
    raise FileNotFoundError(
        f"model {name_or_path!r} not found: not a directory with {CONFIG_FILE}, a shipped model "
        f"or a model in {registry_dir()}"
    )


def register(directory: Path, name: str | None = None, root: Path | None = None) -> Path:
    """Copy a model directory into the registry (default under the user's cache)."""
    root = root or registry_dir()
    target = root / (name or directory.name)
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(directory, target, ignore=shutil.ignore_patterns("checkpoint*", "*.onnx"))
    return target

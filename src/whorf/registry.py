"""Where models live: the models shipped in the package, the local registry, and plain paths."""

from __future__ import annotations

import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from whorf.config import CONFIG_FILE, cache_dir  # noqa: F401 - registry.cache_dir stays importable

DEFAULT_MODEL = "whorf-micro"  # the 3-layer student of whorf-mini (whorf.train.student)
UNTRAINED = "untrained"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")


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


def check_name(name: str) -> str:
    """A registered model's name: one plain path component, so that it can never point outside the
    registry (``../x``, ``/abs``, ``a/b`` and the empty name are refused)."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"model name {name!r} is not allowed: use 1 to 100 letters, digits, '.', '_', '+' or '-', "
            "starting with a letter or digit (no '/')"
        )
    return name


def register(directory: Path, name: str | None = None, root: Path | None = None) -> Path:
    """Copy a model directory into the registry (default under the user's cache) as ``name`` (default:
    the directory's name), replacing a model registered under that name. The copy is made beside the
    target first, so a failed copy leaves the registered model as it was; nothing outside
    ``root / name`` is ever removed."""
    directory = Path(directory)
    name = check_name(directory.name if name is None else name)
    if not (directory / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{directory} is not a model directory: it has no {CONFIG_FILE}")
    root = Path(root) if root else registry_dir()
    target = root / name
    source = directory.resolve()
    if source == target.resolve(strict=False):
        return target  # already registered under this name: copying it onto itself would delete it
    root.mkdir(parents=True, exist_ok=True)
    if source in root.resolve().parents or source == root.resolve():
        raise ValueError(f"cannot register {directory}: the registry {root} lies inside it")
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        shutil.copytree(directory, staging / name, ignore=shutil.ignore_patterns("checkpoint*", "*.onnx"))
        if target.is_symlink() or target.is_file():
            target.unlink()  # a link is removed, never followed
        elif target.exists():
            shutil.rmtree(target)
        (staging / name).rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target

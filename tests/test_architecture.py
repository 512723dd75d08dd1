"""The package's shape: no import cycle between its modules (lazy imports inside functions count too), and
no function longer than 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import whorf

PACKAGE = Path(whorf.__file__).parent
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(), str(path))
    return out


def _imports(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The package modules ``name`` imports anywhere in its body (``from whorf import x`` names module x)."""
    found: set[str] = set()
    package = name if name in known and any(k.startswith(name + ".") for k in known) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m in known and m != name and not name.startswith(m + ".")}


def test_no_import_cycle():
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, tree, known) - {"whorf"} for name, tree in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_no_function_over_60_lines():
    long = []
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {length} lines")
    assert not long, "\n".join(long)


# The layers of docs/architecture.md, lowest first: a module imports only its own layer and those below.
LAYERS = [
    ("text", ["config", "textio", "urls", "doc", "result", "patterns", "phrases", "segment", "decide", "words", "domain", "store",
              "structure", "envelopes", "tokens", "lexicon", "router", "passthrough"]),
    ("model", ["backbone", "model", "light", "runtime", "scoring", "registry"]),
    ("export", ["onnx_export"]),
    ("compress", ["compressor", "jsonl", "explain", "examples"]),
    ("judge", ["gate", "eval", "train", "data", "loop", "metrics", "labels"]),
    ("scale", ["batch", "loop.dogfood"]),
    ("ship", ["ship"]),
    ("entry", ["cli", "proxy", "__main__"]),
]


def _layer(module: str) -> int | None:
    """The layer of ``module`` (a module named in a layer itself, ``loop.dogfood``, before its package)."""
    parts = module.split(".")[1:]
    for depth in (2, 1):
        for rank, (_, names) in enumerate(LAYERS):
            if len(parts) >= depth and ".".join(parts[:depth]) in names:
                return rank
    return None


def test_imports_follow_the_documented_layers():
    modules = _modules()
    known = set(modules)
    unplaced = sorted({m.split(".")[1] for m in known if "." in m and _layer(m) is None})
    assert not unplaced, f"modules in no layer of docs/architecture.md: {unplaced}"
    against = []
    for name, tree in modules.items():
        mine = _layer(name)
        for target in _imports(name, tree, known) - {"whorf"}:
            theirs = _layer(target)
            if mine is not None and theirs is not None and theirs > mine:
                against.append(f"{name} ({LAYERS[mine][0]}) imports {target} ({LAYERS[theirs][0]})")
    assert not against, "\n".join(sorted(against))


def test_the_lexicons_patterns_are_defined_once():
    """A pattern the lexicon holds (a word, a line, JSON whitespace, a UUID, an IPv4 address, a code fence, a
    line number, a log timestamp and level, a path line) is compiled nowhere else, no regular expression
    literal is compiled twice in the package, and the must-keep profile's UUID is the lexicon's."""
    from whorf import lexicon

    whole = {p.pattern for p in (lexicon.WORD, lexicon.LINE, lexicon.JSON_WS, lexicon.FENCE, lexicon.NUMBERED,
                                 lexicon.TIMESTAMP, lexicon.LEVEL, lexicon.PATH_LINE)}  # compiled as they are
    parts = {lexicon.UUID, lexicon.IPV4}  # embedded in larger patterns
    seen: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "lexicon.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "compile" and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                seen.setdefault(node.args[0].value, []).append(f"{path.name}:{node.lineno}")
    again = {p: where for p, where in seen.items() if len(where) > 1 or p in whole or any(x in p for x in parts)}
    assert not again, again
    from whorf.patterns import load_profile

    assert load_profile("default").patterns["uuid"] == rf"\b{lexicon.UUID}\b"

"""Peer baseline: run headroom-ai 0.42.x (PyPI) on tool-output strings.

Run with the peer venv's python (made by ``bench/corpus/setup_peer.sh``)::

    .venv-peer/bin/python bench/corpus/peer_headroom.py < inputs.json > outputs.json

stdin:  a JSON list; each item is a tool-output string, or an object
        ``{"text": str, "command": str}`` (the command only fills the
        ``tool_use`` input, which headroom reads for its grep/rg "search fold").
stdout: a JSON list, same order, of ``{"text": compressed, "ms": float}``;
        an input that fails gives ``{"text": input unchanged, "ms": float,
        "error": str}``. Diagnostics go to stderr.

What it calls, exactly (tested on headroom-ai 0.42.0, the newest 0.42.x):

    headroom.compress(messages, model="claude-sonnet-4-5-20250929",
                      kompress_model="disabled")

``headroom.compress`` is the package's public one-function API (its library
counterpart of the proxy): it runs the default ``TransformPipeline``
(CacheAligner -> ContentRouter), and ContentRouter picks SmartCrusher (JSON,
tables), the log, search or diff compressor, or passthrough, per block (its
AST code compressor is off by default and needs the ``code`` extra).
Each string goes in the way the proxy sees a tool result on Anthropic's
``/v1/messages``::

    [{"role": "user", "content": QUERY},
     {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_peer01",
                                        "name": "Bash", "input": {"command": CMD}}]},
     {"role": "user", "content": [{"type": "tool_result",
                                   "tool_use_id": "toolu_peer01", "content": TEXT}]}]

and the output is that ``tool_result`` block's content after compression.

Settings (everything else is headroom's default, i.e. its default-mode lossy
compression with CCR retrieval markers, 500-char / 250-token floors, and
error-output protection):

* ``kompress_model="disabled"``: ``ContentRouter._get_kompress`` returns None,
  so the ML text compressor (Kompress, ModernBERT) never loads. The minimal
  install has no torch, transformers or onnxruntime either, so no model could
  run; the script exits with an error if any of them got imported by the
  warm-up, or if the router built a Kompress compressor.
* ``model="claude-sonnet-4-5-20250929"`` (headroom's default): token counts
  use its calibrated chars-per-token estimate. An OpenAI model name would make
  tiktoken fetch its BPE file from the internet, which HEADROOM_OFFLINE does
  not stop (it then falls back to the same estimate).
* ``HEADROOM_DETECT_BACKEND=python``: content detection by headroom's regex
  detector. The default native one is Magika (an ONNX classifier in the Rust
  core) and runs only when onnxruntime>=1.24 is installed, which the minimal
  install lacks; on the fixture programs both route identically.
* Offline, set before ``import headroom``: ``HEADROOM_OFFLINE=1`` (headroom's
  own air-gap switch; also pins litellm to its bundled price map),
  ``HF_HUB_OFFLINE=1``, ``TRANSFORMERS_OFFLINE=1``,
  ``LITELLM_LOCAL_MODEL_COST_MAP=True``, ``HEADROOM_TELEMETRY=off``,
  ``HEADROOM_BEACON=off``, ``HEADROOM_UPDATE_CHECK=off``,
  ``HEADROOM_USAGE_REPORTING=0``, ``OTEL_SDK_DISABLED=true``,
  ``HEADROOM_DISABLE_KOMPRESS=1``, and ``HEADROOM_KOMPRESS_ENDPOINT`` removed
  (it would send text to a remote Kompress). As a belt-and-braces guard every
  non-loopback ``socket.connect`` raises; attempts are counted on stderr.
* State: ``HEADROOM_WORKSPACE_DIR`` / ``HEADROOM_CONFIG_DIR`` point at a fresh
  temporary folder (removed at exit), so nothing lands in ``~/.headroom``
  (it writes a CCR store there otherwise) and runs are independent.
* Timing: ``ms`` is wall time of the ``compress()`` call only
  (``time.perf_counter``). Before timing, the first input and one synthetic
  input per route (JSON array, JSON object, log, grep, diff, table, prose) are
  compressed untimed: each route sets itself up on first use (the JSON path
  costs ~60 ms once), and that is setup, not compression. Headroom keeps a
  per-process result cache keyed by content; it is cleared before every timed
  call so each ``ms`` is real compression work, not a cache hit.
* ``compress()`` swallows its own exceptions and returns the input unchanged;
  that case (its "Compression failed" warning) is reported as ``error`` here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from typing import Any

MODEL = "claude-sonnet-4-5-20250929"
QUERY = "Run the command and tell me what the output shows."
TOOL_NAME = "Bash"
TOOL_ID = "toolu_peer01"
DEFAULT_COMMAND = "run"

_OFFLINE_ENV = {
    "HEADROOM_OFFLINE": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "HEADROOM_TELEMETRY": "off",
    "HEADROOM_BEACON": "off",
    "HEADROOM_UPDATE_CHECK": "off",
    "HEADROOM_USAGE_REPORTING": "0",
    "OTEL_SDK_DISABLED": "true",
    "HEADROOM_DISABLE_KOMPRESS": "1",
    "HEADROOM_DETECT_BACKEND": "python",
}
_ML_MODULES = ("torch", "transformers", "onnxruntime", "llmlingua", "sentence_transformers")

_blocked_connects: list[str] = []


def _force_offline(workdir: str) -> None:
    os.environ.update(_OFFLINE_ENV)
    os.environ.pop("HEADROOM_KOMPRESS_ENDPOINT", None)
    os.environ["HEADROOM_WORKSPACE_DIR"] = workdir
    os.environ["HEADROOM_CONFIG_DIR"] = os.path.join(workdir, "config")

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def _allowed(address: Any) -> bool:
        if isinstance(address, (str, bytes)):  # AF_UNIX
            return True
        host = str(address[0]) if isinstance(address, tuple) and address else ""
        return host in ("localhost", "::1") or host.startswith("127.")

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _allowed(address):
            _blocked_connects.append(repr(address))
            raise OSError(f"peer_headroom: network blocked ({address!r})")
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if not _allowed(address):
            _blocked_connects.append(repr(address))
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]


class _FailureCatcher(logging.Handler):
    """Catches compress()'s own 'Compression failed' warning (it fails open)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("Compression failed"):
            self.messages.append(f"{record.name}: {msg}")


def _messages(text: str, command: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": QUERY},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": TOOL_ID, "name": TOOL_NAME, "input": {"command": command}}
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": TOOL_ID, "content": text}],
        },
    ]


def _warmup_samples() -> list[str]:
    """Synthetic inputs, one per ContentRouter route, each over headroom's
    500-char / 250-token floors, so that lazy per-route setup (SmartCrusher,
    log/search/diff/tabular compressors, detectors) is paid before timing."""
    rows = [{"id": i, "name": f"job-{i:03d}", "state": "ok" if i % 7 else "failed"} for i in range(80)]
    obj = {"packages": [{"name": f"p{i}", "deps": [], "path": f"/src/p{i}"} for i in range(30)]}
    log = "".join(
        f"2026-01-01 10:00:{i % 60:02d} INFO worker {i % 4} handled request {i}\n" for i in range(80)
    ) + "2026-01-01 10:01:00 ERROR worker 2 crashed: boom\n"
    grep = "".join(f"src/mod_{i // 5}.py:{i * 3 + 1}:    value = compute({i})\n" for i in range(80))
    diff = (
        "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1,60 +1,60 @@\n"
        + "".join(f" line_{i} = {i}\n" for i in range(30))
        + "-old = 1\n+new = 2\n"
        + "".join(f" tail_{i} = {i}\n" for i in range(30))
    )
    table = "id  name      status  region\n--  --------  ------  ---------\n" + "".join(
        f"{i:<3} task-{i:03d}  done    eu-west-1\n" for i in range(80)
    )
    prose = " ".join(f"Sentence number {i} describes step {i} of the build in plain words." for i in range(40))
    return [json.dumps(rows), json.dumps(obj, indent=2), log, grep, diff, table, prose]


def _tool_result_text(messages: list[dict[str, Any]]) -> str:
    for msg in reversed(messages):
        content = msg.get("content")
        if not isinstance(content, list):
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                inner = block.get("content")
                if isinstance(inner, str):
                    return inner
                if isinstance(inner, list):
                    return "".join(
                        str(b.get("text", "")) for b in inner if isinstance(b, dict)
                    )
                raise ValueError(f"tool_result content of type {type(inner).__name__}")
    raise ValueError("no tool_result block in compressed messages")


def main() -> int:
    items = json.load(sys.stdin)
    if not isinstance(items, list):
        raise SystemExit("stdin must be a JSON list")

    workdir = tempfile.mkdtemp(prefix="peer-headroom-")
    _force_offline(workdir)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # nothing from headroom may pollute the JSON answer
    try:
        import headroom
        from headroom import compress

        # `headroom.compress` the attribute is the function; the module is here.
        compress_module = sys.modules["headroom.compress"]
        from headroom.transforms.content_router import ContentRouter

        if not headroom.__version__.startswith("0.42."):
            print(
                f"peer_headroom: warning: headroom-ai {headroom.__version__}, written for 0.42.x",
                file=sys.stderr,
            )
        catcher = _FailureCatcher()
        logging.getLogger("headroom").addHandler(catcher)
        shown = logging.StreamHandler(sys.stderr)  # headroom's own warnings stay visible
        shown.setLevel(logging.WARNING)
        logging.getLogger("headroom").addHandler(shown)

        def run_one(text: str, command: str) -> tuple[str, float, str | None]:
            msgs = _messages(text, command)
            catcher.messages.clear()
            t0 = time.perf_counter()
            result = compress(msgs, model=MODEL, kompress_model="disabled")
            ms = (time.perf_counter() - t0) * 1000.0
            if catcher.messages:
                return text, ms, "; ".join(catcher.messages)
            return _tool_result_text(result.messages), ms, None

        def clear_caches() -> None:
            pipeline = compress_module._get_pipeline()
            for transform in pipeline.transforms:
                if isinstance(transform, ContentRouter):
                    transform._cache.clear()

        def split(item: Any) -> tuple[str, str]:
            if isinstance(item, str):
                return item, DEFAULT_COMMAND
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                return item["text"], str(item.get("command") or DEFAULT_COMMAND)
            raise TypeError(f"input of type {type(item).__name__}")

        # Warm-up, untimed: the first input, plus one synthetic input per route.
        warm: list[Any] = items[:1] + _warmup_samples()
        for w_item in warm:
            try:
                run_one(*split(w_item))
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, KeyboardInterrupt):
                    raise
                print(f"peer_headroom: warm-up failed: {exc!r}", file=sys.stderr)

        loaded_ml = [m for m in _ML_MODULES if m in sys.modules]
        if loaded_ml:
            raise SystemExit(f"peer_headroom: ML modules were imported: {loaded_ml}")
        for transform in compress_module._get_pipeline().transforms:
            if isinstance(transform, ContentRouter) and getattr(transform, "_kompress", None):
                raise SystemExit("peer_headroom: Kompress compressor was built")

        out: list[dict[str, Any]] = []
        for item in items:
            text = item.get("text", item) if isinstance(item, dict) else item
            t0 = time.perf_counter()
            try:
                text, command = split(item)
                clear_caches()
                t0 = time.perf_counter()
                compressed, ms, error = run_one(text, command)
            except BaseException as exc:  # noqa: BLE001 - OfflineEgressBlocked is a BaseException
                if isinstance(exc, KeyboardInterrupt):
                    raise
                ms = (time.perf_counter() - t0) * 1000.0
                compressed, error = text, f"{type(exc).__name__}: {exc}"
            row: dict[str, Any] = {"text": compressed, "ms": round(ms, 3)}
            if error is not None:
                row["error"] = error
            out.append(row)

        print(
            f"peer_headroom: headroom-ai {headroom.__version__}, {len(out)} inputs, "
            f"{sum(r['ms'] for r in out):.1f} ms total, "
            f"{sum(1 for r in out if 'error' in r)} errors, "
            f"{len(_blocked_connects)} blocked connects {_blocked_connects[:3]}",
            file=sys.stderr,
        )
    finally:
        sys.stdout = real_stdout
        shutil.rmtree(workdir, ignore_errors=True)

    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

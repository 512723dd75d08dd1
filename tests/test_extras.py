"""Each extra works in a venv of its own: a plain ``pip install '.[proxy]'`` (no torch, nothing else the dev
venv happens to hold) runs ``whorf proxy``, which answers a WebSocket upgrade (Codex's first transport) with
426 and counts it, so the client falls back to HTTPS at once instead of retrying.

Slow (a fresh venv from PyPI); the venv is cached per pyproject.toml hash under the test cache directory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import time
import venv
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _proxy_venv() -> Path:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    where = Path(os.environ.get("WHORF_EXTRAS_VENV_DIR", Path.home() / ".cache" / "whorf-test-venvs")) / f"proxy-{digest}"
    python = where / "bin" / "python"
    if not (where / ".installed").exists():
        venv.create(where, with_pip=True, clear=True)
        run = subprocess.run([str(python), "-m", "pip", "install", "-q", f"{ROOT}[proxy]"],
                             capture_output=True, text=True, timeout=900)
        if run.returncode != 0:
            pytest.fail(f"pip install '.[proxy]' failed:\n{run.stderr[-3000:]}")
        (where / ".installed").touch()
    return python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _upgrade(port: int) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /v1/responses HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request.encode())
        return s.recv(4096)


def test_a_plain_proxy_install_refuses_websocket_upgrades_with_426(tmp_path):
    python = _proxy_venv()
    missing = subprocess.run([str(python), "-c", "import json, importlib.util as u; print(json.dumps("
                              "[m for m in ('torch', 'transformers') if u.find_spec(m)]))"],
                             capture_output=True, text=True, check=True)
    assert json.loads(missing.stdout) == []  # the light install: no torch
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", XDG_CACHE_HOME=str(tmp_path))
    proc = subprocess.Popen([str(python), "-m", "whorf", "proxy", "--port", str(port), "--upstream", "http://127.0.0.1:9"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 240
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/stats", timeout=2)
                break
            except httpx.HTTPError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail(f"the proxy did not start: {proc.stdout.read() if proc.poll() is not None else ''}")
                time.sleep(0.5)
        answer = _upgrade(port)
        assert answer.startswith(b"HTTP/1.1 426"), answer[:200]
        assert httpx.get(f"http://127.0.0.1:{port}/stats").json()["websocket_refused"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)

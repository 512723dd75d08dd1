"""Find a running ``whorf proxy`` on a port, or start one in the background and wait for it."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from whorf.config import cache_dir


def running(url: str) -> bool:
    """True when a whorf proxy answers ``/stats`` at ``url``."""
    try:
        r = httpx.get(f"{url}/stats", timeout=1.0)
        return r.status_code == 200 and "tool_outputs_seen" in r.json()
    except (httpx.HTTPError, ValueError):
        return False


def ensure_proxy(port: int, upstream: str, extra: list[str], timeout: float = 300.0) -> tuple[str, bool]:
    """(the proxy's URL, whether it was started now). A started proxy keeps running after the agent exits;
    its output goes to ``<cache>/proxy-<port>.log``."""
    url = f"http://127.0.0.1:{port}"
    if running(url):
        return url, False
    log_path = cache_dir() / f"proxy-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "whorf", "proxy", "--upstream", upstream, "--port", str(port), *extra]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running(url):
            return url, True
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"the proxy exited (code {process.returncode}): {' | '.join(tail)} (log: {log_path})")
        time.sleep(0.25)
    process.terminate()
    raise RuntimeError(f"the proxy did not answer on {url} within {timeout:.0f} s (log: {log_path})")

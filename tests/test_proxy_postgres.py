"""The proxy's pair log, forms and originals on a real PostgreSQL server that the test starts.

Debian's ``postgresql`` package provides initdb/pg_ctl; as root the server runs as the ``postgres`` user.
Missing PostgreSQL skips the test, except in CI (``WHORF_CI=1``), where it fails.
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile

import httpx
import pytest

from whorf.proxy.app import ProxyConfig, create_app
from whorf.data.pairs import PairLog
from whorf.proxy.worker import CompressionWorker, factory_for

from conftest import FIXTURES, TOOL_OUTPUT
from servers import free_port, serve, upstream_app

pytestmark = pytest.mark.slow  # real agents, a browser or a database: make test-quick skips them



def unavailable(reason):
    if os.environ.get("WHORF_CI") == "1":
        pytest.fail(f"PostgreSQL test cannot run in CI: {reason}")
    pytest.skip(reason)


def as_server_user(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="module")
def postgres():
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        unavailable("psycopg2 is not installed")
    bindir = os.path.dirname(binaries[-1])
    root = tempfile.mkdtemp(prefix="whorf-pg-", dir="/tmp")
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = os.path.join(root, "data"), free_port()
    run = lambda cmd: subprocess.run(as_server_user(cmd), check=True, capture_output=True, text=True, timeout=120)  # noqa: E731
    run([f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "whorf", "-E", "UTF8"])
    run([f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-w", "-t", "60",
         "-o", f"-p {port} -k {root} -h 127.0.0.1", "start"])
    try:
        yield f"postgresql+psycopg2://whorf@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_server_user([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def body():
    return {"model": "gpt", "messages": [
        {"role": "user", "content": "why?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": TOOL_OUTPUT}]}


def test_pairs_forms_and_originals_on_postgresql(postgres, tiny_compressor, tmp_path):
    worker = CompressionWorker(factory_for(tiny_compressor)).start()
    upstream = upstream_app()
    sent = []
    try:
        with serve(upstream) as up:
            for lifetime in range(2):  # the second proxy finds the form the first one recorded
                config = ProxyConfig(upstream=up, log_pairs=True, persist_forms=True, retrieve=True, db_url=postgres, min_chars=100)
                app = create_app(config, worker=worker)
                with serve(app) as proxy:
                    assert httpx.post(f"{proxy}/v1/chat/completions", json=body(), timeout=60).status_code == 200
                    sent.append(upstream.state.received[-1]["body"])
                    assert app.state.proxy.writer.flush(30)
                    stats = httpx.get(f"{proxy}/stats").json()
                assert (stats["new_outputs"], stats["reused"]) == ((1, 0) if lifetime == 0 else (0, 1))
    finally:
        worker.stop()
    assert sent[0] == sent[1]
    log = PairLog(postgres)
    assert log.count() == 1
    compressed = json.loads(sent[0])["messages"][2]["content"]
    handle = compressed.rsplit("whorf_retrieve ", 1)[1].rstrip("]")
    assert log.get_original(handle) == TOOL_OUTPUT
    assert log.export(tmp_path / "pairs.jsonl")["written"] == 1

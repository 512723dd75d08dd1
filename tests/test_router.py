import json
import time

import pytest

from whorf.domain import route

from conftest import FIXTURES, TRACEBACK

PROGRAMS = FIXTURES / "programs"


@pytest.mark.parametrize("text,domain", [
    ("diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a\n+b", "diff"),
    ((FIXTURES / "app.log").read_text(), "log"),
    (TRACEBACK, "diagnostics"),
    (json.dumps({"a": [1, 2], "b": {"c": None}}, indent=2), "json"),
    ('{"a": 1}\n{"a": 2}\n{"a": 3}\n', "json"),
    ("total 12\ndrwxr-xr-x  2 u g 4096 Jan 1 10:00 src\n-rw-r--r--  1 u g 120 Jan 1 10:00 README.md", "table"),
    (".\n├── src\n│   └── main.rs\n└── Cargo.toml", "table"),
    ("NAME     READY   STATUS    RESTARTS   AGE\napi-1    1/1     Running   0          3d\napi-2    0/1     CrashLoopBackOff   7   3d", "table"),
    ("import os\n\ndef main():\n    return os.getcwd()\n\nclass A:\n    pass", "code"),
    ("The quick brown fox jumps over the lazy dog. It was a sunny day.", "prose"),
    ("src/app/auth.py:167: def emit(self):\nsrc/app/core.py:235:     raise X('e')\nsrc/app/db.py:12:x = 1", "search"),
    ("error TS1167: Cannot find module 'x'\n  at /srv/db.rs:460:7\n  at writeLog (/srv/q.ts:167:7)", "diagnostics"),
    ("The tool call returned the following response\n{\n  \"status\": 502,\n  \"items\": []\n}", "json"),
    ("", "prose"),
])
def test_router_labels_each_structure(text, domain):
    assert route(text) == domain


EXPECTED = {
    "cargo_check": "diagnostics", "gcc_wall": "diagnostics", "pytest_verbose": "diagnostics",
    "python_traceback": "diagnostics", "node_traceback": "diagnostics", "python_compileall": "diagnostics",
    "git_diff": "diff", "git_grep": "search", "ls_long": "table", "df_h": "table",
    "sqlite_column": "table", "ps_table": "table", "json_jobs": "json", "pip_list_json": "json", "cargo_metadata_json": "json",
    "http_server_log": "log",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_router_on_real_program_output(name):
    assert route((PROGRAMS / f"{name}.txt").read_text()) == EXPECTED[name]


def test_router_survives_deep_nesting_and_long_runs():
    assert route("[" * 100_000 + "]" * 100_000) in ("json", "prose", "code")
    assert route("x" * 1_000_000) == "prose"


def test_router_is_cheap():
    text = (PROGRAMS / "git_grep.txt").read_text()[:10_000]
    route(text)
    started = time.perf_counter()
    for _ in range(20):
        route(text)
    per_call = (time.perf_counter() - started) / 20
    assert per_call < 0.05  # about 1 ms per 10 kB on a quiet machine; generous for a shared CI box

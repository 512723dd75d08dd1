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


def test_router_csv_repetitive_output_and_lists_that_are_prose():
    rows = "id,name,status\n" + "".join(f"{i},job-{i},ok\n" for i in range(20))
    assert route(rows) == "table"
    pip = "".join(f"Requirement already satisfied: pkg{i} in /venv/lib/python3.11/site-packages ({i}.0)\n" for i in range(30))
    assert route(pip) == "log"
    grocery = "Grocery List:\n- Spaghetti noodles\n- Marinara sauce\n- Ground beef\n- Taco shells\n- Salsa"
    assert route(grocery) == "prose"
    sentences = "In the movie Hondo, Lane, played by Wayne, pins Silva.\nSilva, played by Acosta, is a chief.\nThe end, finally, came."
    assert route(sentences) == "prose"


def test_docker_table_with_multiword_header_keeps_the_odd_row():
    from whorf import structure

    head = "CONTAINER ID   IMAGE          COMMAND                  CREATED        STATUS                     PORTS     NAMES\n"
    rows = [f"{i:012x}   nginx:1.25     \"/docker-entrypoint.…\"   2 hours ago    Up 2 hours                 80/tcp    web-{i}\n"
            for i in range(40)]
    rows[25] = "00000000abcd   nginx:1.25     \"/docker-entrypoint.…\"   2 hours ago    Exited (137) 5 minutes ago           web-25\n"
    text = head + "".join(rows)
    assert route(text) == "table"
    out = structure.plan(text, "table").render(text)
    assert out.splitlines()[0] == head.rstrip("\n") and rows[25].rstrip("\n") in out.splitlines()
    # forty containers, each named by its own CONTAINER ID and NAMES: entities, none of them repetition
    assert out == text


def test_one_route_names_the_models_label_and_the_module_that_decides():
    """``whorf compress --json`` on a git log says ``gitlog`` (the router's label stays the model's: prose),
    on ``ls -l`` the table module."""
    import json as _json
    import subprocess
    import sys

    from conftest import FIXTURES
    from whorf.router import route

    log = (FIXTURES / "programs" / "git_log_stat.txt").read_text()
    assert route(log).shape == "gitlog"
    listing = subprocess.run(["ls", "-l", "/usr/bin"], capture_output=True, text=True).stdout
    assert route(listing).shape == "table"
    for text, shape in ((log, "gitlog"), (listing, "table")):
        run = subprocess.run([sys.executable, "-m", "whorf", "compress", "-", "--json", "--budget", "300"],
                             input=text, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        assert _json.loads(run.stdout)["stats"]["structure"] == shape


def test_claude_codes_numbered_read_is_code_for_the_router_and_the_code_module():
    """Claude Code's Read prints ``     N→line``: the router and the code module read one line-number
    pattern (the lexicon's), so the model's label and the module agree that the file is code."""
    import inspect

    from whorf import router
    from whorf.structure import code

    source = inspect.getsource(code).splitlines()[:60]
    read = "".join(f"{n:>6}→{ln}\n" for n, ln in enumerate(source, 1))
    routed = router.route(read)
    assert routed.domain == "code" and routed.shape == "code"

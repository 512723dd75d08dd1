"""Run real programs and record what they print, with the facts an agent needs from each output.

    python bench/corpus/make_corpus.py [--out tests/fixtures/programs]

Each case is written as NAME.txt (the program's output, exactly) and NAME.json ({"command", "facts",
"checks"}): facts are strings that must survive compression verbatim; checks name the structural checks
(whorf.structure.checks) the output must pass. The programs run in a temporary directory; nothing here is
synthetic text except the small inputs the programs are run on (a test suite with one failing test, a C
file with warnings, a Rust crate with a type error, a web server hit by requests).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

CASES: dict[str, dict] = {}


def case(name: str, command: str, output: str, facts: list[str], checks: list[str]) -> None:
    missing = [f for f in facts if f not in output]
    if missing:
        raise SystemExit(f"{name}: facts not in the program's output: {missing}")
    CASES[name] = {"command": command, "output": output, "facts": facts, "checks": checks}


def run(cmd: list[str] | str, cwd: Path, shell: bool = False, env: dict | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, shell=shell, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)
    return proc.stdout + proc.stderr


def pytest_run(tmp: Path) -> None:
    proj = tmp / "proj"
    (proj / "tests").mkdir(parents=True)
    tests = ["import pytest", ""]
    for i in range(40):
        tests.append(f"def test_parse_record_{i:02d}():\n    assert {i} + 1 == {i + 1}\n")
    tests.append("def test_total_price_rounding():\n    total = round(0.1 + 0.2, 10)\n    assert total == 0.31\n")
    (proj / "tests" / "test_records.py").write_text("\n".join(tests))
    out = run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests"], proj)
    case("pytest_verbose", "pytest -v", out,
         ["test_total_price_rounding", "assert 0.3 == 0.31", "1 failed, 40 passed", "FAILED"],
         ["line_atomic"])


def compileall_run(tmp: Path) -> None:
    src = tmp / "pkg"
    src.mkdir()
    for i in range(30):
        (src / f"module_{i:02d}.py").write_text(f"def f{i}(x):\n    return x * {i}\n")
    (src / "broken_config.py").write_text("def load(path)\n    return open(path).read()\n")
    out = run([sys.executable, "-m", "compileall", "-f", "pkg"], tmp)
    case("python_compileall", "python -m compileall -f pkg", out,
         ["broken_config.py", "SyntaxError", "expected ':'"], ["line_atomic"])


def gcc_run(tmp: Path) -> None:
    c = tmp / "server.c"
    c.write_text(textwrap.dedent("""\
        #include <stdio.h>
        #include <string.h>
        int parse_port(const char *s) { int unused_counter; return atoi(s); }
        int handle(char *buf) {
            char small[8];
            strcpy(small, buf);
            int n;
            printf("%d\\n", n);
            return "done";
        }
        int main(int argc, char **argv) {
            if (argc > 1) handle(argv[1]);
            return parse_port("8080") + undefined_symbol;
        }
        """))
    out = run(["gcc", "-Wall", "-Wextra", "-c", "server.c", "-o", "/dev/null"], tmp, env={"LC_ALL": "C"})
    case("gcc_wall", "gcc -Wall -Wextra -c server.c", out,
         ["error: 'undefined_symbol' undeclared", "implicit declaration of function 'atoi'", "-Wunused-variable",
          "returning 'char *' from a function with return type 'int'"],
         ["line_atomic", "headlines"])


def cargo_run(tmp: Path) -> None:
    crate = tmp / "demo"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n')
    (crate / "src" / "main.rs").write_text(textwrap.dedent("""\
        fn port() -> u16 {
            let raw = "8080";
            raw
        }
        fn main() {
            let unused = 3;
            let count: i32 = "hello";
            println!("{}", port());
        }
        """))
    out = run(["cargo", "check", "--offline", "--color", "never"], crate, env={"CARGO_TERM_COLOR": "never"})
    case("cargo_check", "cargo check", out,
         ["error[E0308]: mismatched types", "expected `u16`, found `&str`", "expected `i32`, found `&str`",
          "could not compile `demo`"], ["line_atomic", "headlines"])


def node_run(tmp: Path) -> None:
    (tmp / "app.js").write_text(textwrap.dedent("""\
        function loadUser(db, id) { return db.users.find(u => u.id === id).profile.name; }
        function handler(req) { return loadUser({users: [{id: 1, profile: null}]}, req.id); }
        [1].map(id => handler({id}));
        """))
    out = run(["node", "app.js"], tmp)
    case("node_traceback", "node app.js", out,
         ["TypeError: Cannot read properties of null (reading 'name')", "app.js:1"], ["line_atomic"])


def python_traceback_run(tmp: Path) -> None:
    (tmp / "loader.py").write_text(textwrap.dedent("""\
        import json, decimal
        def read_settings(text):
            return json.loads(text, parse_float=decimal.Decimal)
        def main():
            settings = read_settings('{"retries": 3, "timeout": 1.5,, "host": "db.internal"}')
            print(settings)
        main()
        """))
    out = run([sys.executable, "loader.py"], tmp)
    case("python_traceback", "python loader.py", out,
         ["json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 31 (char 30)",
          "loader.py", "read_settings"], ["line_atomic"])


def git_runs(tmp: Path) -> None:
    repo = tmp / "repo"
    repo.mkdir()
    git = lambda *a: run(["git", *a], repo, env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",  # noqa: E731
                                                  "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"})
    git("init", "-q")
    for i in range(12):
        body = "\n".join(f"def handler_{i}_{j}(request):\n    timeout = request.get('timeout', {j})\n"
                         f"    return fetch(request, timeout=timeout)\n" for j in range(6))
        (repo / f"service_{i:02d}.py").write_text(body)
    git("add", ".")
    git("commit", "-qm", "init")
    grep = git("grep", "-n", "timeout")
    case("git_grep", "git grep -n timeout", grep, ["service_07.py:2:", "service_11.py:"], ["line_atomic"])
    lines = (repo / "service_03.py").read_text().splitlines()
    lines[5] = "    timeout = request.get('timeout', 30)  # was 1"
    lines.insert(12, "    raise TimeoutError('upstream did not answer')")
    (repo / "service_03.py").write_text("\n".join(lines) + "\n")
    diff = git("diff", "-U8")
    case("git_diff", "git diff -U8", diff,
         ["+    timeout = request.get('timeout', 30)  # was 1", "+    raise TimeoutError('upstream did not answer')",
          "-    timeout = request.get('timeout', 1)"], ["line_atomic", "diff_lines"])


def listings(tmp: Path) -> None:
    out = run(["ls", "-l", "/usr/lib/x86_64-linux-gnu"], tmp) if Path("/usr/lib/x86_64-linux-gnu").is_dir() \
        else run(["ls", "-l", "/usr/lib"], tmp)
    first = out.splitlines()[1]
    case("ls_long", "ls -l /usr/lib/x86_64-linux-gnu", out, [first.split()[-1]], ["line_atomic", "header"])
    df = run(["df", "-h"], tmp)
    case("df_h", "df -h", df, ["Filesystem", "Mounted on"], ["line_atomic", "header"])
    sleepers = [subprocess.Popen(["sleep", "60"]) for _ in range(30)]
    stopped = subprocess.Popen(["sleep", "61"])
    stopped.send_signal(19)  # SIGSTOP: the one process in state T
    time.sleep(0.5)
    ps = run(["ps", "-eo", "user,pid,ppid,stat,rss,etime,comm"], tmp)
    for p in sleepers + [stopped]:
        p.kill()
        p.wait()
    odd = next(ln for ln in ps.splitlines() if f" {stopped.pid} " in ln)
    case("ps_table", "ps -eo user,pid,ppid,stat,rss,etime,comm (30 sleeping, 1 stopped)", ps,
         ["USER", "PID", "COMMAND", odd], ["line_atomic", "header"])


def sqlite_run(tmp: Path) -> None:
    db = tmp / "jobs.db"
    sql = ["CREATE TABLE jobs (id INTEGER, name TEXT, status TEXT, attempts INTEGER, region TEXT);"]
    for i in range(60):
        status = "failed" if i == 41 else "done"
        attempts = 5 if i == 41 else 1
        sql.append(f"INSERT INTO jobs VALUES ({i}, 'nightly-export-{i:03d}', '{status}', {attempts}, 'eu-west-1');")
    run(["sqlite3", str(db), "\n".join(sql)], tmp)
    out = run(["sqlite3", "-column", "-header", str(db), "SELECT * FROM jobs;"], tmp)
    case("sqlite_column", "sqlite3 -column -header jobs.db 'SELECT * FROM jobs'", out,
         ["nightly-export-041", "failed"], ["line_atomic", "header"])


def json_runs(tmp: Path) -> None:
    results = []
    for i in range(36):
        cmd = ["false"] if i == 23 else ["true"]
        t = time.perf_counter()
        rc = subprocess.run(cmd).returncode
        results.append({"id": i, "job": f"lint-shard-{i}", "command": " ".join(cmd), "exit_code": rc,
                        "status": "success" if rc == 0 else "failure", "error": None if rc == 0 else f"exit status {rc}",
                        "ms": round((time.perf_counter() - t) * 1000)})
    out = json.dumps({"workflow": "ci", "total": len(results), "jobs": results}, indent=2)
    case("json_jobs", "a CI runner's job list (36 real subprocess runs, JSON)", out,
         ['"lint-shard-23"', '"failure"', '"exit status 1"'], ["json"])
    pip = run([sys.executable, "-m", "pip", "list", "--format=json"], tmp)
    pip = pip[pip.index("["):pip.rindex("]") + 1]
    case("pip_list_json", "pip list --format=json", pip, ['"name"'], ["json"])
    meta = run(["cargo", "metadata", "--format-version", "1", "--offline", "--no-deps"], tmp / "demo")
    meta = json.dumps(json.loads(meta), indent=2)
    case("cargo_metadata_json", "cargo metadata --format-version 1 --no-deps", meta, ['"demo"', '"0.1.0"'], ["json"])


def http_log_run(tmp: Path) -> None:
    (tmp / "www").mkdir()
    (tmp / "www" / "index.html").write_text("ok")
    port = 18000 + os.getpid() % 1000
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                            cwd=tmp / "www", stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    time.sleep(1.0)
    for i in range(150):
        path = "/index.html" if i % 37 else f"/missing/report-{i}.csv"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read()
        except Exception:  # noqa: BLE001 - the 404s are the point
            pass
    proc.terminate()
    out = proc.communicate(timeout=10)[1]
    case("http_server_log", "python -m http.server (access log, 150 requests)", out,
         ['"GET /missing/report-37.csv HTTP/1.1" 404', "code 404, message File not found"], ["line_atomic"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="tests/fixtures/programs")
    args = parser.parse_args()
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for step in (pytest_run, compileall_run, gcc_run, cargo_run, node_run, python_traceback_run, git_runs,
                     listings, sqlite_run, json_runs, http_log_run):
            needs = {"gcc_run": "gcc", "cargo_run": "cargo", "node_run": "node", "sqlite_run": "sqlite3"}.get(step.__name__)
            if needs and not shutil.which(needs):
                print(f"skip {step.__name__}: {needs} not installed", file=sys.stderr)
                continue
            step(tmp)
    out.mkdir(parents=True, exist_ok=True)
    for name, c in CASES.items():
        (out / f"{name}.txt").write_text(c["output"])
        (out / f"{name}.json").write_text(json.dumps({k: v for k, v in c.items() if k != "output"}, indent=2) + "\n")
    print(f"wrote {len(CASES)} cases to {out}")


if __name__ == "__main__":
    main()

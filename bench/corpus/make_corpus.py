"""Run real programs and record what they print, with the facts an agent needs from each output.

    python bench/corpus/make_corpus.py [--out tests/fixtures/programs]

Each case is written as NAME.txt (the program's output, exactly) and NAME.json ({"command", "shape", "facts",
"checks"}): facts are strings that must survive compression verbatim; checks name the structural checks
(whorf.structure.checks) the output must pass; shape names the family of output the case belongs to (code,
git_log, ps, json, ...). The programs run in a temporary directory; nothing here is synthetic text except the
small inputs the programs are run on (a test suite with one failing test, a C file with warnings, a Rust
crate with a type error, a web server hit by requests, an API server's logging calls, processes for ps).

For listings, inventories, logs and code the facts include entries sampled at random (random.Random seeded
with the case's name) among the output's entities that occur exactly once in it: any entry may be the one
an agent asks about, so none may be dropped.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import queue
import random
import re
import shlex
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
REPO = Path(__file__).resolve().parents[2]
SHAPES = {"code", "code_numbered", "markdown", "pip_table", "pip_json", "ls_long", "find", "git_ls_files", "dpkg",
          "git_grep", "git_log", "git_log_oneline", "git_log_stat", "ps", "json_records", "log_file_prefixed", "log",
          "diagnostics", "diff", "table", "json"}
VERBATIM = ["verbatim", "line_atomic"]


def case(name: str, shape: str, command: str, output: str, facts: list[str], checks: list[str]) -> None:
    assert shape in SHAPES, shape
    missing = [f for f in facts if f not in output]
    if missing:
        raise SystemExit(f"{name}: facts not in the program's output: {missing}")
    CASES[name] = {"command": command, "shape": shape, "output": output, "facts": facts, "checks": checks}


def sample(name: str, text: str, entities: list[str], k: int = 6) -> list[str]:
    """k of the entities, drawn at random (seeded by the case's name) among those occurring exactly once in
    text, in the order they appear there."""
    unique = [e for e in dict.fromkeys(entities) if e.strip() and text.count(e) == 1]
    picked = random.Random(name).sample(unique, min(k, len(unique)))
    return sorted(picked, key=text.index)


def code_lines(text: str) -> list[str]:
    """Source lines worth asking about: not blank, not a lone bracket."""
    return [ln for ln in text.splitlines() if len(ln.strip()) >= 4]


def ls_names(out: str) -> list[str]:
    """The entry names of an ``ls -l`` listing (a symlink's name without its `` -> target``)."""
    names = []
    for ln in out.splitlines()[1:]:
        parts = ln.split(None, 8)
        if len(parts) == 9:
            names.append(parts[8].split(" -> ")[0])
    return names


def run(cmd: list[str] | str, cwd: Path, shell: bool = False, env: dict | None = None) -> str:
    """The program's stdout then stderr; env entries set to None are removed from its environment."""
    full = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
    proc = subprocess.run(cmd, cwd=cwd, shell=shell, capture_output=True, text=True, env=full, timeout=300)
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
    case("pytest_verbose", "diagnostics", "pytest -v", out,
         ["test_total_price_rounding", "assert 0.3 == 0.31", "1 failed, 40 passed", "FAILED"],
         ["line_atomic"])


def compileall_run(tmp: Path) -> None:
    src = tmp / "pkg"
    src.mkdir()
    for i in range(30):
        (src / f"module_{i:02d}.py").write_text(f"def f{i}(x):\n    return x * {i}\n")
    (src / "broken_config.py").write_text("def load(path)\n    return open(path).read()\n")
    out = run([sys.executable, "-m", "compileall", "-f", "pkg"], tmp)
    case("python_compileall", "diagnostics", "python -m compileall -f pkg", out,
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
    case("gcc_wall", "diagnostics", "gcc -Wall -Wextra -c server.c", out,
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
    case("cargo_check", "diagnostics", "cargo check", out,
         ["error[E0308]: mismatched types", "expected `u16`, found `&str`", "expected `i32`, found `&str`",
          "could not compile `demo`"], ["line_atomic", "headlines"])


def node_run(tmp: Path) -> None:
    (tmp / "app.js").write_text(textwrap.dedent("""\
        function loadUser(db, id) { return db.users.find(u => u.id === id).profile.name; }
        function handler(req) { return loadUser({users: [{id: 1, profile: null}]}, req.id); }
        [1].map(id => handler({id}));
        """))
    out = run(["node", "app.js"], tmp)
    case("node_traceback", "diagnostics", "node app.js", out,
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
    case("python_traceback", "diagnostics", "python loader.py", out,
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
    case("git_grep", "git_grep", "git grep -n timeout", grep,
         ["service_07.py:2:", "service_11.py:"] + sample("git_grep", grep, grep.splitlines()), ["verbatim", "line_atomic"])
    lines = (repo / "service_03.py").read_text().splitlines()
    lines[5] = "    timeout = request.get('timeout', 30)  # was 1"
    lines.insert(12, "    raise TimeoutError('upstream did not answer')")
    (repo / "service_03.py").write_text("\n".join(lines) + "\n")
    diff = git("diff", "-U8")
    case("git_diff", "diff", "git diff -U8", diff,
         ["+    timeout = request.get('timeout', 30)  # was 1", "+    raise TimeoutError('upstream did not answer')",
          "-    timeout = request.get('timeout', 1)"], ["line_atomic", "diff_lines"])


def listings(tmp: Path) -> None:
    out = run(["ls", "-l", "/usr/lib/x86_64-linux-gnu"], tmp) if Path("/usr/lib/x86_64-linux-gnu").is_dir() \
        else run(["ls", "-l", "/usr/lib"], tmp)
    out = "".join(out.splitlines(keepends=True)[:300])  # under Claude Code's 30,000-character cut
    first = out.splitlines()[1]
    case("ls_long", "ls_long", "ls -l /usr/lib/x86_64-linux-gnu | head -n 300", out,
         [first.split()[-1]] + sample("ls_long", out, ls_names(out)), ["verbatim", "line_atomic", "header"])
    df = run(["df", "-h"], tmp)
    case("df_h", "table", "df -h", df, ["Filesystem", "Mounted on"] + sample("df_h", df, df.splitlines()[1:], 3),
         ["line_atomic", "header"])
    sleepers = [subprocess.Popen(["sleep", "60"]) for _ in range(30)]
    stopped = subprocess.Popen(["sleep", "61"])
    stopped.send_signal(19)  # SIGSTOP: the one process in state T
    time.sleep(0.5)
    ps = run(["ps", "-eo", "user,pid,ppid,stat,rss,etime,comm"], tmp)
    for p in sleepers + [stopped]:
        p.kill()
        p.wait()
    odd = next(ln for ln in ps.splitlines() if f" {stopped.pid} " in ln)
    case("ps_table", "ps", "ps -eo user,pid,ppid,stat,rss,etime,comm (30 sleeping, 1 stopped)", ps,
         ["USER", "PID", "COMMAND", odd] + sample("ps_table", ps, ps.splitlines()[1:], 5), ["line_atomic", "header"])


def sqlite_run(tmp: Path) -> None:
    db = tmp / "jobs.db"
    sql = ["CREATE TABLE jobs (id INTEGER, name TEXT, status TEXT, attempts INTEGER, region TEXT);"]
    for i in range(60):
        status = "failed" if i == 41 else "done"
        attempts = 5 if i == 41 else 1
        sql.append(f"INSERT INTO jobs VALUES ({i}, 'nightly-export-{i:03d}', '{status}', {attempts}, 'eu-west-1');")
    run(["sqlite3", str(db), "\n".join(sql)], tmp)
    out = run(["sqlite3", "-column", "-header", str(db), "SELECT * FROM jobs;"], tmp)
    case("sqlite_column", "table", "sqlite3 -column -header jobs.db 'SELECT * FROM jobs'", out,
         ["nightly-export-041", "failed"] + sample("sqlite_column", out, out.splitlines()[2:], 5),
         ["line_atomic", "header"])


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
    case("json_jobs", "json", "a CI runner's job list (36 real subprocess runs, JSON)", out,
         ['"lint-shard-23"', '"failure"', '"exit status 1"'], ["json"])
    pip = run([sys.executable, "-m", "pip", "list", "--format=json"], tmp)
    pip = pip[pip.index("["):pip.rindex("]") + 1]
    names = [json.dumps(p["name"]) for p in json.loads(pip)]  # the value as JSON text: any layout keeps it
    case("pip_list_json", "pip_json", "pip list --format=json", pip,
         ['"name"'] + sample("pip_list_json", pip, names, 5), ["json"])
    if (tmp / "demo").is_dir():  # the crate cargo_run made
        meta = run(["cargo", "metadata", "--format-version", "1", "--offline", "--no-deps"], tmp / "demo")
        meta = json.dumps(json.loads(meta), indent=2)
        case("cargo_metadata_json", "json", "cargo metadata --format-version 1 --no-deps", meta, ['"demo"', '"0.1.0"'],
             ["json"])


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
    case("http_server_log", "log", "python -m http.server (access log, 150 requests)", out,
         ['"GET /missing/report-37.csv HTTP/1.1" 404', "code 404, message File not found"], ["verbatim", "line_atomic"])


def pytest_many_run(tmp: Path) -> None:
    proj = tmp / "many"
    (proj / "tests").mkdir(parents=True)
    modules = {
        "test_api": ("def test_retry_after_header():\n    headers = {'Content-Type': 'application/json'}\n"
                     "    assert int(headers['Retry-After']) == 30\n"),
        "test_models": ("def test_invoice_total_includes_tax():\n    total = round(100 * 1.07, 2)\n"
                        "    assert total == 107.5\n"),
        "test_storage": ("def test_bucket_listing_is_sorted():\n    keys = ['b/2.csv', 'a/1.csv', 'c/3.csv']\n"
                         "    assert keys == sorted(keys)\n"),
        "test_utils": ("@pytest.mark.skip(reason='needs a live database')\ndef test_migrations_apply():\n    pass\n\n"
                       "@pytest.mark.skip(reason='needs a live database')\n"
                       "def test_migrations_roll_back():\n    pass\n\n"
                       "@pytest.mark.xfail(reason='issue 412: unicode slugs')\ndef test_slugify_unicode():\n"
                       "    assert 'café'.encode('ascii', 'ignore').decode() == 'café'\n"),
    }
    for mod, odd in modules.items():
        body = ["import pytest", ""]
        for i in range(30):
            body.append(f"def test_{mod[5:]}_case_{i:02d}():\n"
                        f"    assert len('{mod}'[:{i % 9}]) == {min(i % 9, len(mod))}\n")
        body.append(f"@pytest.mark.parametrize('n', range(20))\n"
                    f"def test_{mod[5:]}_param(n):\n    assert n * 2 // 2 == n\n")
        body.append(odd)
        (proj / "tests" / f"{mod}.py").write_text("\n".join(body))
    out = run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests"], proj)
    case("pytest_many", "diagnostics", "pytest -v (4 modules, 206 tests)", out,
         ["FAILED tests/test_api.py::test_retry_after_header", "KeyError: 'Retry-After'",
          "FAILED tests/test_models.py::test_invoice_total_includes_tax", "assert 107.0 == 107.5",
          "FAILED tests/test_storage.py::test_bucket_listing_is_sorted", "At index 0 diff: 'b/2.csv' != 'a/1.csv'",
          "3 failed, 200 passed, 2 skipped, 1 xfailed"],
         ["line_atomic"])


def code_runs(tmp: Path) -> None:
    src = Path(shlex.__file__)
    out = run(["cat", src.name], src.parent)
    case("cat_python", "code", f"cat {src.parent.name}/{src.name} ({len(out.splitlines())} lines)", out,
         sample("cat_python", out, code_lines(out)), VERBATIM)
    src = Path(queue.__file__)
    out = run(["cat", "-n", src.name], src.parent)
    case("cat_n_python", "code_numbered", f"cat -n {src.parent.name}/{src.name} ({len(out.splitlines())} lines)", out,
         sample("cat_n_python", out, [ln for ln in out.splitlines() if len(ln.split("\t", 1)[-1].strip()) >= 4]),
         VERBATIM)
    # the agent's Read tool prints a file as "{n:>6}→{line}" lines; a one-liner prints the same file that way
    read = ("import sys\nfor n, line in enumerate(open(sys.argv[1], encoding='utf-8'), 1):\n"
            "    print(f'{n:>6}\\u2192' + line.rstrip('\\n'))\n")
    out = run([sys.executable, "-c", read, src.name], src.parent, env={"PYTHONIOENCODING": "utf-8"})
    case("read_arrow_python", "code_numbered", f"Read {src.parent.name}/{src.name} (agent Read tool layout, "
         f"'{{n:>6}}\u2192{{line}}')", out,
         sample("read_arrow_python", out,
                [ln for ln in out.splitlines() if len(ln.split("\u2192", 1)[-1].strip()) >= 4]),
         VERBATIM)


def rust_source() -> Path | None:
    """A real Rust source file of 100-600 lines: from the cargo registry, else from the toolchain's sysroot."""
    roots = [Path.home() / ".cargo" / "registry" / "src"]
    if shutil.which("rustc"):
        sysroot = Path(run(["rustc", "--print", "sysroot"], Path.home()).strip())
        roots += [sysroot / "lib" / "rustlib" / "src", sysroot / "share" / "doc", sysroot]
    for root in roots:
        if root.is_dir():
            for f in sorted(root.rglob("*.rs")):
                if 100 <= len(f.read_text(errors="replace").splitlines()) <= 600:
                    return f
    return None


def rust_run(tmp: Path) -> None:
    src = rust_source()
    if src is None:
        print("skip cat_rust: no Rust source file found", file=sys.stderr)
        return
    out = run(["cat", src.name], src.parent)
    case("cat_rust", "code",
         f"cat {src.parent.name}/{src.name} ({len(out.splitlines())} lines, from the Rust toolchain)", out,
         sample("cat_rust", out, code_lines(out)), VERBATIM)


def markdown_parts(text: str) -> tuple[list[list[str]], list[str]]:
    """(the lines inside each fenced code block, the lines outside every block)."""
    blocks: list[list[str]] = []
    outside: list[str] = []
    inside = False
    for ln in text.splitlines():
        if ln.lstrip().startswith("```"):
            inside = not inside
            if inside:
                blocks.append([])
        elif inside:
            blocks[-1].append(ln)
        else:
            outside.append(ln)
    return blocks, outside


def readme_run(tmp: Path) -> None:
    for pkg in ("httpx", "rich", "typer", "click", "attrs"):
        try:
            meta = importlib.metadata.distribution(pkg).read_text("METADATA") or ""
        except importlib.metadata.PackageNotFoundError:
            continue
        body = meta.split("\n\n", 1)[1] if "\n\n" in meta else ""
        blocks, outside = markdown_parts(body)
        prose = [p for p in re.split(r"\n\s*\n", "\n".join(outside)) if re.match(r"[A-Z]", p.strip())]
        if len(blocks) >= 2 and len(prose) >= 4:
            break
    else:
        print("skip readme_markdown: no installed package has a markdown README with fenced code", file=sys.stderr)
        return
    (tmp / "README.md").write_text(body, encoding="utf-8")
    out = run(["cat", "README.md"], tmp)
    blocks, outside = markdown_parts(out)
    headings = [ln for ln in outside if re.match(r"#{1,6} \S", ln)]
    case("readme_markdown", "markdown", f"cat README.md ({pkg}'s, from its METADATA)", out,
         sample("readme_markdown", out, [ln for b in blocks for ln in b if len(ln.strip()) >= 4], 3)
         + sample("readme_markdown/heading", out, headings, 1), ["fences"])


def inventory_runs(tmp: Path) -> None:
    pip = run([sys.executable, "-m", "pip", "list"], tmp, env={"PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    names = [ln.split()[0] for ln in pip.splitlines()[2:] if ln.strip()]
    case("pip_list", "pip_table", "pip list", pip, sample("pip_list", pip, names), VERBATIM + ["header"])
    where = next((d for d in ("/usr/sbin", "/usr/include", "/usr/bin")
                  if Path(d).is_dir() and len(os.listdir(d)) >= 120), None)
    if where:
        ls = run(["ls", "-l", where], tmp, env={"LC_ALL": "C"})
        case("ls_long_120", "ls_long", f"ls -l {where} ({len(os.listdir(where))} entries)", ls,
             sample("ls_long_120", ls, ls_names(ls)), VERBATIM + ["header"])
    stdlib = Path(shlex.__file__).parent
    found = run(["find", "email", "json", "concurrent"], stdlib)
    case("find_paths", "find", f"find email json concurrent (in {stdlib.name}/)", found,
         sample("find_paths", found, found.splitlines()), VERBATIM)
    if (REPO / ".git").exists():
        files = run(["git", "ls-files"], REPO)
        case("git_ls_files", "git_ls_files", "git ls-files (this repository)", files,
             sample("git_ls_files", files, files.splitlines()), VERBATIM)
    if shutil.which("dpkg"):
        # the first 150 packages: Claude Code cuts one shell output at 30,000 characters, so a longer listing
        # never reaches a compressor whole (the budget case is tested on its own)
        dpkg = "".join(run(["dpkg", "-l"], tmp, env={"COLUMNS": None}).splitlines(keepends=True)[:155])
        rows = dpkg.splitlines()
        start = next((i for i, ln in enumerate(rows) if ln.startswith("+++-")), 0) + 1
        names = [ln.split()[1] for ln in rows[start:] if len(ln.split()) > 1]
        case("dpkg_l", "dpkg", "dpkg -l | head -n 155", dpkg, sample("dpkg_l", dpkg, names), ["verbatim", "line_atomic", "header"])
    else:
        print("skip dpkg_l: dpkg not installed", file=sys.stderr)


def git_log_runs(tmp: Path) -> None:
    if not (REPO / ".git").exists():
        print("skip git_log*: not run from a git checkout", file=sys.stderr)
        return
    git = lambda *a: run(["git", "-c", "color.ui=never", *a], REPO, env={"GIT_PAGER": "cat"})  # noqa: E731
    subjects = git("log", "--format=%s", "-n", "200").splitlines()
    for name, shape, args in (("git_log", "git_log", ["-n", "40"]),
                              ("git_log_oneline", "git_log_oneline", ["--oneline", "-n", "120"]),
                              ("git_log_stat", "git_log_stat", ["--stat", "-n", "15"])):
        out = git("log", *args)
        case(name, shape, f"git log {' '.join(args)} (this repository)", out, sample(name, out, subjects), VERBATIM)
    raw = git("log", "-n", "60", "--format=%H%x1f%an <%ae>%x1f%aI%x1f%s")
    records = [dict(zip(("hash", "author", "date", "subject"), ln.split("\x1f"))) for ln in raw.splitlines()]
    out = json.dumps(records, indent=2)
    case("json_commits", "json_records", "git log -n 60 as JSON records (hash, author, date, subject)", out,
         sample("json_commits", out, [json.dumps(r["subject"]) for r in records]), ["json"])


def ps_aux_run(tmp: Path) -> None:
    """``ps aux`` in a fresh PID namespace, so that it lists the processes started here and nothing else."""
    py = shlex.quote(sys.executable)
    (tmp / "services.sh").write_text(textwrap.dedent(f"""\
        {py} -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 &
        {py} -c 'import time; time.sleep(60)' --queue=high &
        {py} -c 'import time; time.sleep(60)' --queue=low &
        tail -f /dev/null &
        sleep 61 &
        stopped=$!
        for i in $(seq 20); do sleep 60 & done
        sleep 1
        kill -STOP $stopped
        sleep 0.2
        ps aux
        """))
    unshare = ["unshare", "--pid", "--fork", "--mount-proc"]
    out = run([*unshare, "sh", "services.sh"], tmp) if shutil.which("unshare") else ""
    if not out.startswith("USER"):
        print(f"skip ps_aux: no PID namespace for ps to run in ({out.strip()[:100]!r})", file=sys.stderr)
        return
    rows = out.splitlines()[1:]
    commands = [re.split(r"\s+", ln.strip(), maxsplit=10)[-1] for ln in rows]
    stopped = [ln for ln in rows if ln.split()[7].startswith("T")]
    case("ps_aux", "ps", "ps aux (in a PID namespace: a web server, 2 workers, tail, 20 sleeping, 1 stopped)", out,
         stopped + sample("ps_aux", out, commands, 5), VERBATIM + ["header"])


NOVA_SIM = '''\
"""Write an OpenStack-style API and compute log with the logging module: 300 API requests on a replayed clock."""
import calendar, logging, random, time, uuid

rng = random.Random(20170516)
clock = [calendar.timegm((2017, 5, 16, 0, 0, 0)) + 0.008]
uid = lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))


def handler(path, pid):
    h = logging.FileHandler(path, encoding="utf-8")
    fmt = logging.Formatter("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [%(req)s] %(message)s",
                            "%Y-%m-%d %H:%M:%S")
    fmt.converter = time.gmtime
    h.setFormatter(fmt)

    def stamp(record):  # the replayed clock and the worker that handled the record
        record.created, record.msecs, record.process = clock[0], int(clock[0] * 1000) % 1000, pid
        return True
    h.addFilter(stamp)
    return h


api = handler("nova-api.log.1.2017-05-16_13:53:08", 25746)
compute = handler("nova-compute.log.1.2017-05-16_13:55:31", 2931)
for name, h in (("nova.osapi_compute.wsgi.server", api), ("nova.api.openstack.wsgi", api),
                ("nova.compute.manager", compute), ("nova.compute.resource_tracker", compute)):
    lg = logging.getLogger(name)
    lg.addHandler(h)
    lg.setLevel(logging.INFO)
    lg.propagate = False
log = lambda name, level, req, msg: logging.getLogger(name).log(level, msg, extra={"req": req})
tenant, user = uid().replace("-", ""), uid().replace("-", "")
servers = [uid() for _ in range(12)]
events = []  # (time, what, args)
t = clock[0]
odd = rng.sample(range(300), 7)
for i in range(300):
    t += rng.expovariate(1 / 0.9)
    kind = "404" if i in odd[:4] else "202" if i in odd[4:] else "200"
    events.append((t, kind, uid()))
for k in range(1, 6):
    events.append((clock[0] + 60 * k, "tracker", None))
events.sort()
later = []
client = lambda: rng.choice(["10.11.10.1"] * 8 + ["10.11.21.14", "10.11.21.15"])
while events or later:
    if later and (not events or later[0][0] <= events[0][0]):
        t, msg, req = later.pop(0)
        clock[0] = t
        log("nova.compute.manager", logging.INFO, req, msg)
        continue
    t, kind, req = events.pop(0)
    clock[0] = t
    rid = f"req-{req} {user} {tenant} - - -" if req else "req-" + uid() + " - - - - -"
    if kind == "tracker":
        log("nova.compute.resource_tracker", logging.INFO, rid,
            f"Final resource view: name=compute-1.example.internal phys_ram=64172MB "
            f"used_ram={512 + 2048 * rng.randint(0, 6)}MB phys_disk=15GB used_disk={rng.randint(0, 8) * 20}GB "
            f"total_vcpus=16 used_vcpus={rng.randint(0, 6)} pci_stats=[]")
    elif kind == "200":
        path = rng.choice([f"/v2/{tenant}/servers/detail"] * 6 + [f"/v2/{tenant}/servers/{rng.choice(servers)}",
                                                                 f"/v2/{tenant}/flavors/detail"])
        log("nova.osapi_compute.wsgi.server", logging.INFO, rid,
            f'{client()} "GET {path} HTTP/1.1" status: 200 len: {rng.randint(1583, 1916)} '
            f'time: {rng.uniform(0.19, 0.29):.7f}')
    elif kind == "404":
        missing = uid()
        log("nova.api.openstack.wsgi", logging.INFO, rid,
            f"HTTP exception thrown: Instance {missing} could not be found.")
        clock[0] += rng.uniform(0.002, 0.01)
        log("nova.osapi_compute.wsgi.server", logging.INFO, rid,
            f'{client()} "GET /v2/{tenant}/servers/{missing} HTTP/1.1" status: 404 len: 434 '
            f'time: {rng.uniform(0.07, 0.1):.7f}')
    else:
        server = uid()
        log("nova.osapi_compute.wsgi.server", logging.INFO, rid,
            f'{client()} "POST /v2/{tenant}/servers HTTP/1.1" status: 202 len: 733 time: {rng.uniform(0.45, 0.6):.7f}')
        spawn = rng.uniform(18, 24)
        steps = [(0.6, "Attempting claim: memory 2048 MB, disk 20 GB, vcpus 1 CPU"), (0.7, "Claim successful"),
                 (1.4, "Creating image"), (spawn - 0.3, "VM Started (Lifecycle Event)"),
                 (spawn, f"Took {spawn - 0.6:.2f} seconds to spawn the instance on the hypervisor."),
                 (spawn + 0.8, f"Took {spawn + 0.2:.2f} seconds to build instance.")]
        later.extend((t + dt, f"[instance: {server}] {msg}", rid) for dt, msg in steps)
        later.sort()
'''


def log_prefixed_run(tmp: Path) -> None:
    logs = tmp / "nova-logs"
    logs.mkdir()
    (logs / "nova_sim.py").write_text(NOVA_SIM)
    sim = run([sys.executable, "nova_sim.py"], logs)
    files = sorted(p.name for p in logs.glob("nova-*.log.*"))
    if sim or len(files) != 2:
        raise SystemExit(f"nova_sim.py failed: {sim}")
    out = run(["awk", '{print FILENAME" "$0}', *files], logs)
    odd = [ln for ln in out.splitlines() if "status: 404" in ln or "status: 202" in ln]
    # besides the odd statuses, what each distinct message says (a line's text after its request ids): lines
    # that differ only by ids, times and sizes are one message, and only its first instance must stay
    first: dict[str, str] = {}
    for ln in out.splitlines():
        if "] " in ln:
            message = ln.split("] ", 1)[1]
            shape = re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "#", message)  # UUIDs, then numbers
            first.setdefault(re.sub(r"[0-9a-f]*\d[0-9a-f.]*", "#", shape), message)
    messages = [m for m in first.values() if out.count(m) == 1]
    case("log_file_prefixed", "log_file_prefixed", "awk '{print FILENAME\" \"$0}' " + " ".join(files)
         + " (logging-module API and compute logs, 300 requests)", out,
         odd + sample("log_file_prefixed", out, messages, 5), VERBATIM)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="tests/fixtures/programs")
    args = parser.parse_args()
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for step in (pytest_run, compileall_run, gcc_run, cargo_run, node_run, python_traceback_run, git_runs,
                     listings, sqlite_run, json_runs, http_log_run, pytest_many_run, code_runs, rust_run, readme_run,
                     inventory_runs, git_log_runs, ps_aux_run, log_prefixed_run):
            needs = {"gcc_run": "gcc", "cargo_run": "cargo", "node_run": "node", "sqlite_run": "sqlite3"}.get(step.__name__)
            if needs and not shutil.which(needs):
                print(f"skip {step.__name__}: {needs} not installed", file=sys.stderr)
                continue
            step(tmp)
    out.mkdir(parents=True, exist_ok=True)
    for name, c in CASES.items():
        (out / f"{name}.txt").write_text(c["output"], encoding="utf-8")
        (out / f"{name}.json").write_text(json.dumps({k: v for k, v in c.items() if k != "output"}, indent=2) + "\n",
                                          encoding="utf-8")
    print(f"wrote {len(CASES)} cases to {out}")


if __name__ == "__main__":
    main()

"""Real-traffic benchmark (not a test): Claude Code and the Codex CLI run real commands through the proxy.

    python bench/traffic.py [--agents codex,claude] [--modes proxy,wrap] [--queries on,off] [--sets 1,2]
                            [--facts 6] [--seed 0] [--out docs/eval/traffic.json]
    python bench/traffic.py --report [--out docs/eval/traffic.json]   # docs/eval/traffic.md from the json

The agents are the real CLIs from npm (``~/.whorf-agents/bin/codex`` and ``claude``, or on PATH). The upstream
is scripted (``tests/servers.py``: ``responses_agent_upstream`` for Codex, ``anthropic_agent_upstream`` for
Claude Code): it asks the agent to run each command in turn with its shell tool, then answers, and records
every request body, so what the upstream received is read from those bodies. The commands are real
programs run by the agent in a temporary git repository the script builds (listings, pip list/freeze, git
log/--stat/show/grep, pytest with failures, a source read, a JSON API answer, a long build log, ps, find,
dpkg -l).

Each agent runs each prompt set once directly (its base URL pointed at the upstream: the baseline of tokens
and the source of the sampled facts), then through the proxy in two modes, each with queries on and off:

- ``proxy``: a proxy in this process (``create_app(ProxyConfig(upstream=...))``, default settings; queries
  off: ``queries=False``), the agent's base URL pointed at it;
- ``wrap``: ``whorf wrap AGENT --upstream ...`` on a free port: with queries on, wrap starts its own ``whorf
  proxy`` (default settings); with queries off this script starts ``whorf proxy --no-queries`` on that port
  first and wrap uses it. Every proxy is fresh per session (its form cache too).

Set 1 (plain): one session per agent and configuration running every command, the task prompt naming no
entry of the outputs. Facts are sampled at random (seeded) from the direct run's outputs: whole lines or
entity tokens of one line (a package and its version, a file's size and name, a commit sha, a test id and
its status, a pid and its command, a JSON value), only from lines that a second run of the command by this
script prints too (so no timings). A fact reached the upstream when its tokens are on one line of the tool
result in the upstream's last request (a JSON value: anywhere in it). Per output the script also checks that
every line the upstream got that is not a marker is a line of the direct output (lines that differ only in
digits, such as Codex's wall time, count as volatile, not as foreign), that a JSON output decodes
(``jsondoc.decode``) to the direct one's document when it has no marker, that every marker's handle is in
the store of omitted originals (``whorf retrieve``), and that each fact lost is inside one of those
originals. An output is over the budget when its lossless re-encoding (the structural plan without budget)
is longer than the default budget's characters.

Set 2 (questions): one session per question, the user prompt naming an entry sampled at random (seeded) from
an output (a package's version, the commit that changed a file, a test's outcome, a process's pid); the
upstream has the agent run that command, then two small ones, so the output is in several requests. The
answer (the entry's line) must be in the output in every request that carries it, at most 0.35 of the direct
output's o200k tokens.

Retrievals are the proxy's ``/stats`` counter: ``whorf_retrieve`` calls answered, which exist only with
``--retrieve`` (off by default), so with default settings they are 0; a marker's original is still retrievable
with ``whorf retrieve HANDLE`` (checked above). Tokens: o200k_base (``whorf.tokens.count``) of the tool
results. Time: the agent's wall clock. The scripted upstream answers WebSocket upgrades 426 as the proxy does
(Codex tries its WebSocket transport first), so the direct and proxied Codex runs pay the same fallback.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reports  # bench/reports.py (bench/ is the script's directory)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

OUT = ROOT / "docs" / "eval" / "traffic.json"
PROMPT = "Run the shell commands you are asked to run, one at a time, then report."
ANSWER = "FINAL ANSWER: done"
VENV_BIN = Path(sys.executable).parent
SITE = Path(next(p for p in sys.path if p.endswith("site-packages")))
RATIO_BOUND = 0.35  # the acceptance's bound on a singled-out output's tokens upstream / direct
# what differs between two runs of one command: tokens with a digit (timings, Codex's chunk id and wall time)
# and paths under the temporary directory (Claude Code's saved-output file names its session's home)
VOLATILE = re.compile(re.escape(tempfile.gettempdir()) + r"/\S+|[\w.]*\d[\w.]*")


# --- the inputs: a git repository, a test suite with failures, a C project, an API answer, processes -----

AUTHORS = [("Ada Byron", "ada@example.org"), ("Linus Nord", "linus@example.org"), ("Grace Hopper", "grace@example.org"),
           ("Ken Tompson", "ken@example.org"), ("Barbara Liskov", "barbara@example.org")]
MODULES = ["config_loader", "http_client", "retry_policy", "cache_store", "auth_tokens", "rate_limiter", "csv_export",
           "event_bus", "schema_check", "path_utils", "job_queue", "metrics_sink"]
VERBS = ["Add", "Fix", "Refactor", "Document", "Speed up", "Harden", "Simplify", "Test"]


def _run(cmd, cwd, env=None, check=True) -> str:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, errors="replace", timeout=300,
                       shell=isinstance(cmd, str))
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd}: {r.stderr[-2000:]}")
    return r.stdout + r.stderr


def _module_source(name: str, version: int) -> str:
    funcs = "".join(
        f"\n\ndef {name}_{k}(value, *, retries={k + version}):\n"
        f"    \"\"\"Step {k} of {name} (revision {version}).\"\"\"\n"
        f"    if value is None:\n        raise ValueError('{name}_{k}: no value')\n"
        f"    return [value] * retries\n" for k in range(3 + version % 4))
    return f'"""The {name.replace("_", " ")} module."""\n\nVERSION = {version}\n' + funcs


def build_repo(root: Path) -> None:
    """A git repository with 36 commits by five authors, a test suite that fails in places, a C project."""
    root.mkdir(parents=True)
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=str(root.parent))
    _run(["git", "init", "-q", "-b", "main"], root, env)
    _run(["git", "config", "user.email", "bench@example.org"], root, env)
    _run(["git", "config", "user.name", "bench"], root, env)
    (root / ".gitignore").write_text("build/\n__pycache__/\n*.o\n")
    rng = random.Random(7)
    versions = {m: 0 for m in MODULES}
    for n in range(36):
        touched = rng.sample(MODULES, rng.choice([1, 1, 2, 3]))
        for m in touched:
            versions[m] += 1
            path = root / "src" / "app" / f"{m}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_module_source(m, versions[m]))
        if n % 6 == 5:
            (root / "docs").mkdir(exist_ok=True)
            (root / "docs" / f"notes_{n:02d}.md").write_text(f"# Notes {n}\n\n" + "\n".join(
                f"- {rng.choice(VERBS).lower()} {m.replace('_', ' ')}" for m in touched) + "\n")
        author, email = AUTHORS[n % len(AUTHORS)]
        date = f"2026-{9 + n // 12:02d}-{n % 12 * 2 + 3:02d}T{9 + n % 8:02d}:{n * 7 % 60:02d}:00+00:00"
        subject = f"{rng.choice(VERBS)} {touched[0].replace('_', ' ')}" + (f" and {len(touched) - 1} more" if len(touched) > 1 else "")
        _run(["git", "add", "-A"], root, env)
        _run(["git", "commit", "-q", "-m", subject, "-m", f"Touches {', '.join(touched)}."], root,
             dict(env, GIT_AUTHOR_NAME=author, GIT_AUTHOR_EMAIL=email, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date,
                  GIT_COMMITTER_NAME=author, GIT_COMMITTER_EMAIL=email))
    # a test suite: 120 tests, a few failing with assertion diffs
    tests = root / "tests"
    tests.mkdir()
    (tests / "__init__.py").write_text("")
    for m in MODULES[:8]:
        body = [f"import pytest\n\n\n"]
        for k in range(12):
            bad = (len(m) * 7 + k * 5) % 19 == 0
            expect = "[1, 1, 2]" if bad else "[1, 1]"
            body.append(f"def test_{m}_case_{k:02d}():\n    assert [1] * 2 == {expect}\n\n\n")
        body.append(f"@pytest.mark.parametrize('size', [0, 1, 2, 3])\ndef test_{m}_sizes(size):\n"
                    f"    assert len('x' * size) == size {'+ (size == 3)' if m == 'cache_store' else ''}\n")
        (tests / f"test_{m}.py").write_text("".join(body))
    # a C project whose build warns
    native = root / "native"
    (native / "src").mkdir(parents=True)
    for k in range(48):
        unused = "    int unused_%d = %d;\n" % (k, k) if k % 3 == 0 else ""
        sign = "    unsigned int u = 1; if (u > -1) return 0;\n" if k % 7 == 2 else ""
        (native / "src" / f"unit_{k:02d}.c").write_text(
            f"#include <stdio.h>\n\nint unit_{k:02d}(int x)\n{{\n{unused}{sign}    return x * {k + 1};\n}}\n")
    objs = " ".join(f"build/unit_{k:02d}.o" for k in range(48))
    (native / "Makefile").write_text(
        "CC = gcc\nCFLAGS = -O0 -Wall -Wextra -std=c11\n\n"
        f"all: build/libunits.a\n\nbuild/libunits.a: {objs}\n\tar rcs $@ $^\n\n"
        "build/%.o: src/%.c | build\n\t$(CC) $(CFLAGS) -c $< -o $@\n\nbuild:\n\tmkdir -p build\n")
    # a JSON API answer (issues of a tracker, GitHub-shaped)
    labels = ["bug", "docs", "perf", "good-first-issue", "needs-triage", "security"]
    issues = []
    for i in range(22):
        author = AUTHORS[i % 5][0].split()[0].lower() + f"-{rng.randint(10, 99)}"
        issues.append({"id": 9_100_000 + i * 37, "number": 400 + i * 3, "title": f"{rng.choice(VERBS)} {MODULES[i % 12].replace('_', ' ')} on retry {i}",
                       "state": "open" if i % 3 else "closed", "user": {"login": author, "id": 31_000 + i, "type": "User"},
                       "labels": [{"name": n, "color": f"{rng.randrange(16**6):06x}"} for n in rng.sample(labels, 1 + i % 3)],
                       "comments": rng.randint(0, 40), "created_at": f"2026-11-{1 + i:02d}T08:{i:02d}:00Z",
                       "updated_at": f"2026-12-{1 + i % 6:02d}T17:{i:02d}:00Z", "locked": False,
                       "html_url": f"https://git.example.org/acme/app/issues/{400 + i * 3}"})
    (root / "fixtures").mkdir()
    (root / "fixtures" / "issues.json").write_text(json.dumps(issues))
    _run(["git", "add", "-A"], root, env)
    _run(["git", "commit", "-q", "-m", "Add tests, native units and fixtures"], root,
         dict(env, GIT_AUTHOR_DATE="2026-12-01T10:00:00+00:00", GIT_COMMITTER_DATE="2026-12-01T10:00:00+00:00"))


def start_processes() -> subprocess.Popen:
    """A shell holding 40 long-running children (sleep and tail), the rows of a ``ps`` listing."""
    children = " ".join(f"sleep {86_000 + k * 13} &" for k in range(32)) + " " + \
        " ".join(f"tail -f /dev/null -s {k + 2} &" for k in range(8))
    return subprocess.Popen(["bash", "-c", f"{children} wait"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def commands(holder: int) -> list[tuple[str, str]]:
    """(name, command) of set 1, in the order the upstream asks for them."""
    pip = VENV_BIN / "pip"
    return [
        ("ls -l /usr/bin", "ls -l /usr/bin"),
        ("pip list", f"{pip} list --disable-pip-version-check"),
        ("pip freeze", f"{pip} freeze --disable-pip-version-check"),
        ("git log", "git log -25"),
        ("git log --stat", "git log --stat -20"),
        ("git show", "git show HEAD~4"),
        ("git grep", "git grep -n 'raise ValueError'"),
        ("pytest", f"{VENV_BIN / 'python'} -m pytest -v -p no:cacheprovider tests"),
        ("source read", f"cat {SITE / 'click' / 'parser.py'}"),
        ("json api", "python3 -m json.tool fixtures/issues.json"),
        ("build log", "make -B -C native"),
        ("ps", f"ps u --ppid {holder}"),
        ("find", f"find {SITE / 'starlette'} -name '*.py'"),
        ("dpkg -l", "dpkg -l"),
    ]


FILLERS = ["git status --short --branch", "ls -la"]


# --- facts: what a line says, per command ---------------------------------------------------------------

def _fact(tokens, anywhere=False) -> dict:
    tokens = [t for t in tokens if t]
    return {"tokens": tokens, "anywhere": anywhere, "text": " … ".join(tokens)}


def candidates(name: str, line: str) -> list[dict]:
    """The facts one stable line of an output offers."""
    s = line.strip()
    f = s.split()
    if not s or len(s) < 6:
        return []
    if name in ("ls -l /usr/bin",) and len(f) >= 9 and f[0][:1] in "-ld":
        return [_fact([f[4], f[8]])]  # size and file name
    if name == "pip list" and len(f) == 2 and not s.startswith(("Package", "---")):
        return [_fact(f)]
    if name == "dpkg -l" and len(f) >= 3 and f[0] == "ii":
        return [_fact([f[1], f[2]])]
    if name in ("git log", "git log --stat"):
        if f[0] == "commit" and len(f) == 2:
            return [_fact([f[1]])]
        if name == "git log --stat" and "|" in s:
            return [_fact([f[0], f[2]])]  # path and lines changed
        if line.startswith("    ") and s and not s.startswith("Touches"):
            return [_fact([s])]  # a subject
        return []
    if name == "pytest":
        m = re.match(r"(tests/\S+::\S+) (PASSED|FAILED)", s)
        return [_fact([m.group(1), m.group(2)])] if m else []
    if name == "ps" and len(f) >= 11 and f[1].isdigit():
        return [_fact([f[1], " ".join(f[10:])])]  # pid and command
    if name == "json api":
        m = re.match(r'"(\w+)": ("[^"]*"|-?\d+)', s)
        return [_fact([m.group(2)], anywhere=True)] if m and m.group(1) in ("login", "title", "number", "html_url", "color") else []
    if name == "git show" and s[:1] in "+-" and not s.startswith(("+++", "---")):
        return [_fact([line.rstrip()])]
    if name in ("git grep", "pip freeze", "find", "build log", "source read"):
        return [_fact([line.rstrip()])] if len(s) > 12 else []
    return []


def reached(fact: dict, text: str) -> bool:
    if fact["anywhere"]:
        return all(t in text for t in fact["tokens"])
    return any(all(t in ln for t in fact["tokens"]) for ln in text.splitlines())


# --- the agents ------------------------------------------------------------------------------------------

def agent_binary(name: str) -> str:
    path = shutil.which(name) or str(Path.home() / ".whorf-agents" / "bin" / name)
    if not os.access(path, os.X_OK):
        raise SystemExit(f"the {name} CLI is not installed (npm install -g "
                         f"{'@openai/codex' if name == 'codex' else '@anthropic-ai/claude-code'})")
    return path


def agent_env(agent: str, home: Path) -> dict:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", HF_HUB_OFFLINE="1")
    for key in ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
        env.pop(key, None)
    if agent == "codex":
        (home / "codex-home").mkdir(parents=True, exist_ok=True)
        env.update(CODEX_HOME=str(home / "codex-home"), OPENAI_API_KEY="sk-test")
    else:
        (home / "home").mkdir(parents=True, exist_ok=True)
        env.update(HOME=str(home / "home"), ANTHROPIC_API_KEY="sk-ant-test", DISABLE_TELEMETRY="1",
                   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1")
    return env


def agent_args(agent: str, prompt: str) -> list[str]:
    if agent == "codex":
        return ["exec", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", prompt]
    return ["-p", prompt, "--allowedTools", "Bash"]


def upstream_for(agent: str, cmds: list[str], answer: dict | None = None):
    """The scripted upstream of ``agent`` for ``cmds``. With an ``answer`` (set 2) it also behaves as a model
    that looks for that answer: when the first command's output reached it without the answer but with a
    marker, it asks the agent to run ``whorf retrieve HANDLE`` as one more command (the proxy counts it)."""
    from fastapi import WebSocket
    from fastapi.responses import JSONResponse
    from servers import anthropic_agent_upstream, responses_agent_upstream
    from whorf.structure.markers import HANDLE

    script = list(cmds)  # the scripted app reads this list at each request: a command appended here is asked next
    app = (responses_agent_upstream if agent == "codex" else anthropic_agent_upstream)(script, ANSWER)

    async def refuse(websocket: WebSocket, path: str) -> None:  # as the proxy does: Codex falls back to HTTPS
        await websocket.send_denial_response(JSONResponse({"error": "no WebSocket"}, status_code=426))

    refuse.__annotations__ = {"websocket": WebSocket, "path": str}  # resolved here, not from this module's globals

    app.add_api_websocket_route("/{path:path}", refuse)
    if answer is None:
        return app

    def look(raw: bytes) -> None:
        try:
            first = tool_outputs(agent, json.loads(raw)).get(0)
        except (ValueError, AttributeError):
            return
        if first is None or reached(answer, first) or len(script) > len(cmds):
            return
        handles = HANDLE.findall(first)
        if handles:
            script.append(f"{VENV_BIN / 'whorf'} retrieve {handles[-1]}")

    async def looking(scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST":
            return await app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        look(raw)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        return await app(scope, replay, send)

    looking.state = app.state
    return looking


def tool_outputs(agent: str, body: dict) -> dict[int, str]:
    """Command index -> the tool result text one request body carries."""
    out: dict[int, str] = {}
    if agent == "codex":
        for item in body.get("input") or []:
            if isinstance(item, dict) and item.get("type") == "function_call_output":
                o = item.get("output")
                text = o if isinstance(o, str) else "".join(p.get("text", "") for p in o or [] if isinstance(p, dict))
                out[int(str(item.get("call_id")).removeprefix("call_"))] = text
        return out
    for m in body.get("messages") or []:
        for b in m.get("content") if isinstance(m.get("content"), list) else []:
            if isinstance(b, dict) and b.get("type") == "tool_result" and str(b.get("tool_use_id")).startswith("toolu_"):
                c = b.get("content")
                text = c if isinstance(c, str) else "".join(p.get("text", "") for p in c or [] if isinstance(p, dict))
                out[int(str(b["tool_use_id"]).removeprefix("toolu_"))] = text
    return out


def queries_of(agent: str, body: dict) -> dict[int, str | None]:
    """Command index -> the query the proxy builds for that output from this body (rewrite's finders)."""
    from whorf.proxy.rewrite import FINDERS

    out = {}
    for slot in FINDERS["responses" if agent == "codex" else "anthropic"](body):
        call = str(slot.call or "")
        if call.startswith(("call_", "toolu_")):
            try:
                out[int(call.split("_", 1)[1])] = slot.query
            except ValueError:
                pass
    return out


def _wait_port(url: str, timeout: float = 120) -> None:
    from whorf.proxy.launch import running

    deadline = time.monotonic() + timeout
    while not running(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no proxy at {url}")
        time.sleep(0.2)


def session(agent: str, mode: str, queries: bool, cmds: list[str], prompt: str, cwd: Path, home: Path,
            answer: dict | None = None) -> dict:
    """One agent run (tried once more when it did not finish: a wrap session's proxy imports the working tree
    afresh, so an edit in progress can break one start); ``attempts`` says how many it took."""
    for attempt in (1, 2):
        shutil.rmtree(home, ignore_errors=True)
        result = _session(agent, mode, queries, cmds, prompt, cwd, home, answer)
        result["attempts"] = attempt
        if result["ok"]:
            break
        print(f"  {agent} {mode} session did not finish (attempt {attempt}): {result['error'][-300:]}", flush=True)
    return result


def _run_at(url: str, agent: str, binary: str, env: dict, prompt: str, cwd) -> tuple:
    """The agent pointed straight at ``url`` (the upstream or a proxy): its run and the seconds it took."""
    base = url + ("/v1" if agent == "codex" else "")
    argv = [binary] + (["-c", f"openai_base_url={base}"] if agent == "codex" else []) + agent_args(agent, prompt)
    if agent == "claude":
        env["ANTHROPIC_BASE_URL"] = base
    started = time.perf_counter()
    run = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    return run, time.perf_counter() - started


def _session(agent: str, mode: str, queries: bool, cmds: list[str], prompt: str, cwd: Path, home: Path,
             answer: dict | None = None) -> dict:
    """One agent run: mode direct, proxy or wrap. Returns the upstream's request bodies, /stats, seconds."""
    import httpx
    from servers import free_port, serve
    from whorf.proxy.app import ProxyConfig, create_app

    binary = agent_binary(agent)
    env = agent_env(agent, home)
    upstream = upstream_for(agent, cmds, answer)
    stats: dict = {}
    with serve(upstream) as up:
        if mode == "direct":
            run, seconds = _run_at(up, agent, binary, env, prompt, cwd)
        elif mode == "proxy":
            app = create_app(ProxyConfig(upstream=up, queries=queries))
            with serve(app) as proxy:
                run, seconds = _run_at(proxy, agent, binary, env, prompt, cwd)
                stats = httpx.get(f"{proxy}/stats", timeout=10).json()
        else:  # wrap: `whorf wrap` starts the proxy (queries on) or uses ours (queries off)
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            ours = None
            if not queries:
                ours = subprocess.Popen([sys.executable, "-m", "whorf", "proxy", "--upstream", up, "--port", str(port),
                                         "--no-queries"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _wait_port(url)
            argv = [sys.executable, "-m", "whorf", "wrap", agent, "--port", str(port), "--upstream", up, "--bin", binary,
                    *agent_args(agent, prompt)]
            started = time.perf_counter()
            run = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=400)
            seconds = time.perf_counter() - started
            try:
                stats = httpx.get(f"{url}/stats", timeout=10).json()
            except httpx.HTTPError as exc:  # the proxy is gone (or never started): say why, from its log
                log_file = Path(os.environ.get("XDG_CACHE_HOME", "")) / "whorf" / f"proxy-{port}.log"
                tail = log_file.read_text(errors="replace")[-600:] if log_file.is_file() else ""
                run = subprocess.CompletedProcess(argv, 1, run.stdout, f"{run.stderr}\nno /stats ({exc}); proxy log: {tail}")
            finally:
                if ours is not None:
                    ours.terminate()
                    ours.wait(30)
                elif stats.get("pid"):
                    os.kill(int(stats["pid"]), signal.SIGTERM)  # the proxy wrap started for this session
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline and _alive(int(stats["pid"])):
                        time.sleep(0.1)
        bodies = [json.loads(raw) for raw in upstream.state.received]
    ok = run.returncode == 0 and ANSWER in run.stdout
    return {"bodies": bodies, "stats": stats, "seconds": round(seconds, 2), "ok": ok,
            "error": "" if ok else (run.stdout[-800:] + run.stderr[-1500:])}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie of ours is gone for this purpose
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


# --- what one output went upstream as --------------------------------------------------------------------

def budget_size(text: str) -> int:
    """Characters of ``text``'s lossless re-encoding (the structural plan without a budget), envelope included."""
    from whorf import domain as domains, envelopes, structure

    wrapped = envelopes.split(text)
    body = wrapped.body if wrapped else text
    plan = structure.plan(body, domains.route(body), None, None)
    return len(wrapped.header if wrapped else "") + len(plan.render(body))


def _body(text: str) -> str:
    from whorf import envelopes

    wrapped = envelopes.split(text)
    return wrapped.body if wrapped else text


def check_output(name: str, direct: str, sent: str, facts: list[dict], store) -> dict:
    """How one output reached the upstream against the direct run's."""
    from whorf import tokens
    from whorf.config import DEFAULT_BUDGET_TOKENS
    from whorf.structure import budget as budgets
    from whorf.structure.jsondoc import decode
    from whorf.structure.markers import HANDLE, JSON_MARKER, MARKER_LINE

    direct_lines = set(direct.splitlines())
    volatile_lines = {VOLATILE.sub("#", ln) for ln in direct_lines}
    foreign, volatile, markers, notes = [], 0, [], []
    is_json = False
    try:
        doc = json.loads(_body(sent))
        is_json = isinstance(doc, (dict, list))
    except ValueError:
        doc = None
    for ln in sent.splitlines():
        if MARKER_LINE.match(ln):
            markers.append(ln)
            continue
        if HANDLE.search(ln) and ln.startswith("[") and ln.endswith("]"):
            notes.append(ln)  # the proxy's closing line: how to print an omitted part (whorf retrieve HANDLE)
            continue
        if not ln.strip() or ln in direct_lines or is_json:
            continue
        if VOLATILE.sub("#", ln) in volatile_lines:
            volatile += 1
        else:
            foreign.append(ln)
    json_equal = None
    if is_json:
        markers += JSON_MARKER.findall(sent)
        if not JSON_MARKER.search(sent):
            try:
                json_equal = decode(doc) == json.loads(_body(direct))
            except ValueError:
                json_equal = False
    handles = sorted(set(HANDLE.findall(sent)))
    originals = {h: store.get(h) for h in handles}
    lost = []
    for f in facts:
        if not reached(f, sent):
            behind = [h for h, o in originals.items() if o is not None and reached(f, o)]
            shown = next((m for m in markers if behind and behind[0] in m), None)
            lost.append({"fact": f["text"], "behind_marker": behind[0] if behind else None, "marker": shown})
    size = budget_size(direct)
    return {
        "name": name, "chars_direct": len(direct), "chars_upstream": len(sent),
        "tokens_direct": tokens.count(direct), "tokens_upstream": tokens.count(sent),
        "budget_chars": size, "over_budget": size > budgets.chars(DEFAULT_BUDGET_TOKENS, _body(direct)),
        "changed": sent != direct, "facts": len(facts), "facts_reached": len(facts) - len(lost), "lost": lost,
        "markers": len(markers), "marker_examples": markers[:3], "notes": notes[:2], "handles": len(handles), "handles_retrievable": sum(o is not None for o in originals.values()),
        "foreign_lines": len(foreign), "foreign_examples": foreign[:3], "volatile_lines": volatile,
        "json_decodes_to_direct": json_equal,
        "whole_units_only": not foreign and (json_equal is not False),
    }


# --- the sets --------------------------------------------------------------------------------------------

def sample_facts(name: str, text: str, stable: set[str], k: int, seed: str) -> list[dict]:
    pool, seen = [], set()
    for ln in _body(text).splitlines():
        if ln not in stable:
            continue
        for f in candidates(name, ln):
            key = tuple(f["tokens"])
            if key not in seen:
                seen.add(key)
                pool.append(f)
    rng = random.Random(seed)
    return rng.sample(pool, min(k, len(pool)))


def _summary(rows: list[dict], sess: dict, direct: dict | None = None) -> dict:
    stats = sess.get("stats") or {}
    return {
        "ok": sess["ok"], "error": sess["error"][-600:], "seconds": sess["seconds"],
        "direct_seconds": direct["seconds"] if direct else None,
        "facts": sum(r["facts"] for r in rows), "facts_reached": sum(r["facts_reached"] for r in rows),
        "tokens_direct": sum(r["tokens_direct"] for r in rows), "tokens_upstream": sum(r["tokens_upstream"] for r in rows),
        "retrievals": stats.get("retrievals"), "deadline_missed": stats.get("deadline_missed"),
        "failures": stats.get("failures"), "tool_outputs_compressed": stats.get("tool_outputs_compressed"),
        "tool_outputs_seen": stats.get("tool_outputs_seen"), "requests": len(sess["bodies"]),
        "attempts": sess.get("attempts", 1),
    }


def query_info(direct: str, query: str | None) -> dict:
    """The query the proxy built for one output (None: queries off) and the specific terms of it the output
    has (what lets the query budget narrow it: relevance.mentions)."""
    from whorf.structure.relevance import specific, terms

    named = sorted(set(terms(_body(direct))) & specific(query)) if query else []
    return {"query": query[:400] if query else None, "query_names_something": bool(named), "query_terms_in_output": named}


DIRECT: dict[str, dict[int, str]] = {}  # agent -> its set-1 direct run's outputs (set 2 samples from them)


def run_set1(agent, configs, cmdlist, cwd, home, stable, args, store, log) -> dict:
    names = [n for n, _ in cmdlist]
    cmds = [c for _, c in cmdlist]
    direct = session(agent, "direct", True, cmds, PROMPT, cwd, home / "direct")
    log(f"{agent} set 1 direct: {direct['seconds']} s ok={direct['ok']}")
    if not direct["ok"]:
        return {"direct": _summary([], direct), "runs": {}}
    d_out = tool_outputs(agent, direct["bodies"][-1])
    DIRECT[agent] = d_out
    facts = {i: sample_facts(names[i], d_out.get(i, ""), stable[i], args.facts, f"{args.seed}:{agent}:{names[i]}")
             for i in range(len(cmds))}
    result = {"direct": {"seconds": direct["seconds"], "ok": True, "tokens": sum(
        __import__("whorf.tokens", fromlist=["count"]).count(d_out.get(i, "")) for i in range(len(cmds))),
        "outputs": {names[i]: {"chars": len(d_out.get(i, "")), "budget_chars": budget_size(d_out.get(i, "")),
                               "facts": [f["text"] for f in facts[i]]} for i in range(len(cmds))}}, "runs": {}}
    for mode, queries in configs:
        key = f"{mode}/queries-{'on' if queries else 'off'}"
        sess = session(agent, mode, queries, cmds, PROMPT, cwd, home / key.replace("/", "-"))
        rows = []
        if sess["ok"]:
            last = sess["bodies"][-1]
            sent = tool_outputs(agent, last)
            every = [tool_outputs(agent, b) for b in sess["bodies"]]
            qs = queries_of(agent, last)
            for i in range(len(cmds)):
                row = check_output(names[i], d_out.get(i, ""), sent.get(i, ""), facts[i], store)
                row.update(query_info(d_out.get(i, ""), qs.get(i) if queries else None))
                row["byte_stable"] = len({e[i] for e in every if i in e}) <= 1  # the same form in every later request
                rows.append(row)
        summary = _summary(rows, sess, direct)
        summary["outputs"] = rows
        result["runs"][key] = summary
        log(f"{agent} set 1 {key}: {sess['seconds']} s ok={sess['ok']} facts {summary['facts_reached']}/{summary['facts']} "
            f"tokens {summary['tokens_upstream']}/{summary['tokens_direct']}")
        if not sess["ok"]:
            log(sess["error"][-1500:])
    return result


QUESTION_KINDS = ["pip list", "git log --stat", "pytest", "ps"]


def questions(d_out: dict[int, str], names: list[str], stable: list[set[str]], seed: int, per_kind: int) -> list[dict]:
    """``per_kind`` questions per kind, each naming an entry sampled at random (seeded) among those the query
    can single out (relevance.specific: an identifier, a path, a version, a number), from ``d_out``: the agent's
    direct run of every command (each agent truncates in its own way: Claude Code cuts a failed command's output
    to about 10,000 characters, so an entry must come from what that agent's direct run shows)."""
    from whorf.structure.relevance import specific

    out = []
    for kind in QUESTION_KINDS:
        i = names.index(kind)
        text = _body(d_out.get(i, ""))
        rng = random.Random(f"{seed}:question:{kind}")
        pool = []
        lines = text.splitlines()
        if kind == "pip list":
            for ln in lines:
                f = ln.split()
                if ln in stable[i] and len(f) == 2 and not ln.startswith(("Package", "---")) and specific(f[0]):
                    pool.append({"entry": f[0], "question": f"Which version of {f[0]} is installed?", "answer": [f[0], f[1]]})
        elif kind == "git log --stat":
            touched: dict[str, list[str]] = {}
            sha = None
            for ln in lines:
                if ln.startswith("commit "):
                    sha = ln.split()[1]
                elif "|" in ln and sha:
                    touched.setdefault(ln.split()[0], []).append(sha)
            for path, shas in touched.items():
                if len(shas) == 1 and specific(path):
                    pool.append({"entry": path, "question": f"Which commit changed {path}?", "answer": [shas[0]]})
        elif kind == "pytest":
            for ln in lines:
                m = re.match(r"(tests/\S+::\S+) (PASSED|FAILED)", ln)
                if m and ln in stable[i]:
                    test = m.group(1).split("::")[1]
                    pool.append({"entry": test, "question": f"Did {test} pass?", "answer": [m.group(1), m.group(2)]})
        elif kind == "ps":
            for ln in lines:
                f = ln.split()
                if ln in stable[i] and len(f) >= 12 and f[1].isdigit() and f[10] == "sleep":
                    proc = " ".join(f[10:])
                    pool.append({"entry": proc, "question": f"What is the pid of the `{proc}` process?", "answer": [f[1], proc]})
        for n, q in enumerate(rng.sample(pool, min(per_kind, len(pool)))):
            out.append({"kind": kind, "key": f"{kind} #{n + 1}", "index": i, **q})
    return out


def run_set2(agent, configs, cmdlist, cwd, home, stable, d1_out, args, store, log) -> dict:
    names = [n for n, _ in cmdlist]
    result = {}
    for q in questions(d1_out, names, stable, args.seed, args.questions):
        cmds = [cmdlist[q["index"]][1]] + FILLERS
        fact = _fact(q["answer"])
        direct = session(agent, "direct", True, cmds, q["question"], cwd, home / f"q-{q['key']}-direct".replace(" ", "_").replace("#", ""), fact)
        entry = {"question": q["question"], "command": cmds[0], "answer": fact["text"], "runs": {}}
        if not direct["ok"]:
            entry["direct"] = _summary([], direct)
            result[q["key"]] = entry
            continue
        d_text = tool_outputs(agent, direct["bodies"][-1]).get(0, "")
        from whorf import tokens
        entry["direct"] = {"seconds": direct["seconds"], "tokens": tokens.count(d_text), "answer_in_direct": reached(fact, d_text)}
        log(f"{agent} set 2 {q['key']} direct: {direct['seconds']} s ({q['question']})")
        for mode, queries in configs:
            key = f"{mode}/queries-{'on' if queries else 'off'}"
            sess = session(agent, mode, queries, cmds, q["question"], cwd,
                           home / f"q-{q['key']}-{key}".replace("/", "-").replace(" ", "_").replace("#", ""), fact)
            row = {"ok": sess["ok"], "error": sess["error"][-600:], "seconds": sess["seconds"], "attempts": sess.get("attempts", 1)}
            if sess["ok"]:
                copies = [tool_outputs(agent, b).get(0) for b in sess["bodies"]]
                copies = [c for c in copies if c is not None]
                sent = copies[-1]
                check = check_output(q["kind"], d_text, sent, [fact], store)
                qs = queries_of(agent, sess["bodies"][-1])
                retrieved = tool_outputs(agent, sess["bodies"][-1]).get(len(cmds))
                row.update(query_info(d_text, qs.get(0) if queries else None))
                row.update({
                    "turns": len(copies), "answer_turns": sum(reached(fact, c) for c in copies),
                    "byte_stable": len(set(copies)) == 1,
                    "tokens_direct": check["tokens_direct"], "tokens_upstream": check["tokens_upstream"],
                    "ratio": round(check["tokens_upstream"] / max(check["tokens_direct"], 1), 3),
                    "retrieved_by_agent": retrieved is not None,
                    "answer_in_retrieved": reached(fact, retrieved) if retrieved is not None else None,
                    "markers": check["markers"], "handles_retrievable": f"{check['handles_retrievable']}/{check['handles']}",
                    "whole_units_only": check["whole_units_only"], "foreign_examples": check["foreign_examples"],
                    "retrievals": (sess["stats"] or {}).get("retrievals"),
                    "deadline_missed": (sess["stats"] or {}).get("deadline_missed"),
                })
            entry["runs"][key] = row
            log(f"{agent} set 2 {q['key']} {key}: ok={sess['ok']} answer {row.get('answer_turns')}/{row.get('turns')} "
                f"ratio {row.get('ratio')}")
        result[q["key"]] = entry
    return result


# --- the report ------------------------------------------------------------------------------------------

def report(data: dict) -> str:
    meta = data["meta"]
    out = ["# Real traffic: Claude Code and Codex through the proxy", "",
           f"Command: `{meta['command']}` ({meta['seconds']:.0f} s on this machine; {meta['when']}; src/whorf digest "
           f"{meta['source_digest']['start']}" + ("" if meta["source_digest"]["start"] == meta["source_digest"]["end"]
                                                   else f", {meta['source_digest']['end']} at the end: the code changed during the run") + ").", "",
           f"Agents: {', '.join(f'{a} {v}' for a, v in meta['agents'].items())}. Model {meta['model']}, default "
           f"settings (budget {meta['budget_tokens']} tokens, query budget {meta['query_budget_tokens']}, deadline "
           f"{meta['deadline_ms']:.0f} ms, retrieve off). Each proxy is fresh per session. Facts: {meta['facts']} per "
           f"output, sampled with seed {meta['seed']} from the direct run's stable lines. Tokens: o200k of the tool "
           "results in the upstream's last request. Retrievals: the proxy's /stats (whorf_retrieve is off by "
           "default, so 0; a marker's original is checked retrievable from the store instead: `whorf retrieve`).", "",
           "## Set 1: plain task prompt", "", f"Prompt: \"{PROMPT}\"", "",
           "| agent | mode | queries | facts reached | outputs losing facts | over-budget outputs, whole units only | "
           "markers retrievable | byte-stable outputs | retrievals | tokens upstream / direct | seconds (direct) | deadline misses |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    losses = []
    for agent, sets in data["agents"].items():
        s1 = sets.get("set1")
        if not s1:
            continue
        for key, r in s1["runs"].items():
            mode, q = key.split("/")
            rows = r.get("outputs", [])
            if not r["ok"]:
                out.append(f"| {agent} | {mode} | {q[8:]} | did not finish: {r['error'][-120:]!r} | | | | | | | | |")
                continue
            losing = [x for x in rows if x["lost"]]
            over = [x for x in rows if x["over_budget"]]
            over_ok = sum(x["whole_units_only"] and all(l["behind_marker"] for l in x["lost"]) for x in over)
            handles = sum(x["handles"] for x in rows)
            retr = sum(x["handles_retrievable"] for x in rows)
            out.append(f"| {agent} | {mode} | {q[8:]} | {r['facts_reached']}/{r['facts']} | {len(losing)} of {len(rows)} | "
                       f"{over_ok}/{len(over)} | {retr}/{handles} | {sum(x.get('byte_stable', True) for x in rows)}/{len(rows)} | {r['retrievals']} | {r['tokens_upstream']:,}/"
                       f"{r['tokens_direct']:,} ({r['tokens_upstream'] / max(r['tokens_direct'], 1):.3f}) | "
                       f"{r['seconds']:.1f} ({r['direct_seconds']:.1f}) | {r['deadline_missed']} |")
            for x in rows:
                for lost in x["lost"]:
                    losses.append((agent, key, x, lost))
    out += ["", "Per output (tokens upstream / direct; `over` marks an output whose lossless re-encoding is over the "
            "budget; `q` an output the query names something in; `!` a line that is not a line of the direct output):", ""]
    for agent, sets in data["agents"].items():
        s1 = sets.get("set1")
        if not s1 or not s1["runs"]:
            continue
        keys = list(s1["runs"])
        out += [f"**{agent}**", "", "| output | direct chars | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
        names = list(s1["direct"]["outputs"])
        for n in names:
            cells = []
            for k in keys:
                row = next((x for x in s1["runs"][k].get("outputs", []) if x["name"] == n), None)
                if row is None:
                    cells.append("")
                    continue
                flag = (" over" if row["over_budget"] else "") + (" q" if row.get("query_names_something") else "") + \
                    ("" if row["whole_units_only"] else " !")
                cells.append(f"{row['tokens_upstream']:,}/{row['tokens_direct']:,}, facts {row['facts_reached']}/{row['facts']}{flag}")
            out.append(f"| {n} | {s1['direct']['outputs'][n]['chars']:,} | " + " | ".join(cells) + " |")
        out.append("")
    out += ["### Facts lost (set 1)", "", "Each fact once, with the configurations that lost it; the marker is the one "
            "the fact went behind (its original, from the store, has the fact's line).", ""]
    if not losses:
        out.append("None.")
    grouped: dict = {}
    for agent, key, x, lost in losses:
        where = f"behind `{lost['marker']}`" if lost.get("marker") else (
            f"behind marker {lost['behind_marker']}" if lost["behind_marker"] else "not behind any marker")
        why = ("over the budget" if x["over_budget"] else "under the budget") + \
            (f"; the query names {', '.join(x['query_terms_in_output'])} in it" if x.get("query_names_something") else "")
        grouped.setdefault((agent, x["name"], lost["fact"]), []).append((key, where, why))
    for (agent, name, fact), seen in grouped.items():
        keys = ", ".join(k for k, _, _ in seen)
        out.append(f"- {agent}, `{name}`: `{fact[:120]}` — {keys}; {seen[0][2]}; {seen[0][1]}")
    out += ["", "## Set 2: questions that name an entry", "",
            f"One session per question; the upstream has the agent run the command, then {' and '.join(f'`{c}`' for c in FILLERS)}. "
            f"Answer turns: requests carrying the output that carry the answer too. Ratio: o200k tokens of the output "
            f"upstream / direct (bound {RATIO_BOUND}).", "",
            "| agent | question | command | mode | queries | answer turns | ratio | query terms in the output | "
            "agent retrieved (answer in it) | retrievals | byte-stable | deadline misses | seconds |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for agent, sets in data["agents"].items():
        for kind, e in (sets.get("set2") or {}).items():
            for key, r in e["runs"].items():
                mode, q = key.split("/")
                if not r["ok"]:
                    out.append(f"| {agent} | {e['question']} | `{_short(e['command'])}` | {mode} | {q[8:]} | did not finish | | | | | | | |")
                    continue
                got = "-" if not r["retrieved_by_agent"] else ("yes (yes)" if r["answer_in_retrieved"] else "yes (no)")
                out.append(f"| {agent} | {e['question']} | `{_short(e['command'])}` | {mode} | {q[8:]} | {r['answer_turns']}/{r['turns']} | "
                           f"{r['ratio']:.3f} ({r['tokens_upstream']:,}/{r['tokens_direct']:,}) | "
                           f"{', '.join(r['query_terms_in_output']) or 'none' if r['query'] is not None else '-'} | {got} | "
                           f"{r['retrievals']} | {'yes' if r['byte_stable'] else 'no'} | {r['deadline_missed']} | {r['seconds']:.1f} |")
    out += ["", "## Acceptance", ""]
    for line in data.get("acceptance", []):
        out.append(f"- {line}")
    if meta.get("not_run"):
        out += ["", "Not run: " + "; ".join(meta["not_run"])]
    return "\n".join(out) + "\n"


def _short(command: str) -> str:
    """A command as the report shows it: the venv's and site-packages' directories left out."""
    return command.replace(str(VENV_BIN) + "/", "").replace(str(SITE) + "/", "")


def acceptance(data: dict) -> list[str]:
    lines = []
    under_lost, over_bad, q_bad = [], [], []
    for agent, sets in data["agents"].items():
        for key, r in (sets.get("set1") or {}).get("runs", {}).items():
            if not key.endswith("queries-on"):  # the acceptance is at default settings
                continue
            for x in r.get("outputs", []):
                if not x["over_budget"] and x["lost"]:
                    under_lost.append(f"{agent} {key} {x['name']} ({len(x['lost'])} lost)")
                if x["over_budget"] and (not x["whole_units_only"] or any(not l["behind_marker"] for l in x["lost"])):
                    over_bad.append(f"{agent} {key} {x['name']}")
            if not r["ok"]:
                under_lost.append(f"{agent} {key} did not finish")
        for kind, e in (sets.get("set2") or {}).items():
            if not e.get("direct", {}).get("answer_in_direct", True):
                q_bad.append(f"{agent} {e['question']!r}: the answer is not in the direct output (a bad question)")
            for key, r in e["runs"].items():
                if not key.endswith("queries-on"):
                    continue
                if not r["ok"] or r["answer_turns"] != r["turns"] or r["ratio"] > RATIO_BOUND:
                    q_bad.append(f"{agent} {key} {e['question']!r}: " + (
                        "did not finish" if not r["ok"] else f"answer {r['answer_turns']}/{r['turns']}, ratio {r['ratio']:.3f}"
                        + (" (the compression missed its deadline: the original went up)" if r.get("deadline_missed") else "")))
    lines.append(("PASS" if not under_lost else "FAIL") + ": every sampled fact of every output under the budget reached "
                 "the upstream (default settings, both agents, proxy and wrap)" + (f"; not: {'; '.join(under_lost)}" if under_lost else ""))
    lines.append(("PASS" if not over_bad else "FAIL") + ": outputs over the budget lost only whole units behind retrievable "
                 "markers" + (f"; not: {'; '.join(over_bad)}" if over_bad else ""))
    lines.append(("PASS" if not q_bad else "FAIL") + f": questions naming an entry: the answer in every turn at <= {RATIO_BOUND} "
                 "of the direct tokens" + (f"; not: {'; '.join(q_bad)}" if q_bad else ""))
    return lines


def source_digest() -> str:
    """sha256 (12 hex) of src/whorf's Python files: which code a run measured (wrap's proxies import it afresh)."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((ROOT / "src" / "whorf").rglob("*.py")):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def agent_version(agent: str) -> str:
    try:
        return _run([agent_binary(agent), "--version"], ROOT, check=False).strip().splitlines()[-1]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agents", default="codex,claude")
    p.add_argument("--modes", default="proxy,wrap")
    p.add_argument("--queries", default="on,off")
    p.add_argument("--sets", default="1,2")
    p.add_argument("--facts", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--questions", type=int, default=2, help="questions per kind in set 2")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--report", action="store_true", help="only write the .md next to --out from its json")
    args = p.parse_args()
    md = args.out.with_suffix(".md")
    if args.report:
        md.write_text(report(json.loads(args.out.read_text())))
        print(f"wrote {md}")
        return

    from whorf.config import DEFAULT_BUDGET_TOKENS, DEFAULT_QUERY_BUDGET_TOKENS
    from whorf.proxy.config import ProxyConfig
    from whorf.store import Store

    started = time.perf_counter()
    digest = source_digest()
    tmp = Path(tempfile.mkdtemp(prefix="whorf-traffic-"))
    os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")  # the store of omitted originals, proxies' logs
    store = Store(tmp / "cache" / "whorf" / "store.sqlite")
    repo = tmp / "repo"
    build_repo(repo)
    holder = start_processes()
    time.sleep(1.0)
    configs = [(m, q == "on") for m in args.modes.split(",") for q in args.queries.split(",")]

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {msg}", flush=True)

    data = {"meta": {}, "agents": {}}
    try:
        cmdlist = commands(holder.pid)
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
        reference = {i: _run(c, repo, env, check=False) for i, (_, c) in enumerate(cmdlist)}  # this script's own run
        stable = [set(reference[i].splitlines()) for i in range(len(cmdlist))]
        for agent in args.agents.split(","):
            home = tmp / agent
            data["agents"][agent] = {}
            if "1" in args.sets.split(","):
                s1 = run_set1(agent, configs, cmdlist, repo, home / "set1", stable, args, store, log)
                data["agents"][agent]["set1"] = s1
            if "2" in args.sets.split(","):
                if agent not in DIRECT:  # set 1 did not run: a direct run of every command to sample from
                    d1 = session(agent, "direct", True, [c for _, c in cmdlist], PROMPT, repo, home / "set2-direct")
                    DIRECT[agent] = tool_outputs(agent, d1["bodies"][-1])
                data["agents"][agent]["set2"] = run_set2(agent, configs, cmdlist, repo, home / "set2", stable,
                                                         DIRECT[agent], args, store, log)
    finally:
        os.killpg(holder.pid, signal.SIGTERM)
    cfg = ProxyConfig(upstream="http://upstream")
    data["meta"] = {
        "command": "nice -n 10 python bench/traffic.py" + "".join(
            f" --{k} {v}" for k, v in (("agents", args.agents), ("modes", args.modes), ("queries", args.queries),
                                       ("sets", args.sets), ("facts", args.facts), ("seed", args.seed),
                                       ("questions", args.questions))
            if str(v) != str(p.get_default(k))) + (f" --out {args.out}" if args.out != OUT else ""),
        "seconds": time.perf_counter() - started, "when": time.strftime("%Y-%m-%d"),
        "agents": {a: agent_version(a) for a in args.agents.split(",")}, "model": cfg.model,
        "budget_tokens": DEFAULT_BUDGET_TOKENS, "query_budget_tokens": DEFAULT_QUERY_BUDGET_TOKENS,
        "deadline_ms": cfg.deadline_ms, "facts": args.facts, "seed": args.seed, "questions_per_kind": args.questions,
        "source_digest": {"start": digest, "end": source_digest()},
        "commands": [{"name": n, "command": c} for n, c in cmdlist], "fillers": FILLERS,
    }
    data["acceptance"] = acceptance(data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    reports.write(args.out, data, report)
    log(f"wrote {args.out} and {md}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

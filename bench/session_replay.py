"""Session replay benchmark (not a test): a 30-turn agent session through ``whorf proxy``.

    python bench/session_replay.py [--turns 30] [--api anthropic|openai] [--model whorf-micro] [--out r.json]

The tool outputs are real: the script runs real programs in a temporary directory (ls, git log/diff/show
on a temporary repository, pytest on a tiny failing project, a Python traceback, df, ps, json.tool, ...).
Each request re-sends the whole history plus one new tool result, as agents do, once directly to a local
upstream that answers at once and once through the proxy (default settings). Reported per turn: the
latency the proxy added, bytes sent upstream / bytes the client sent, and whether the history the
upstream saw changed from the previous request (a prefix change: a prompt-cache miss).
"""


import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from proxy_load import serve  # noqa: E402 - bench/ is this script's directory, so on sys.path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
MAX_OUTPUT = 24_000  # characters kept of one tool output (agents truncate too)

TINY_PROJECT = {
    "calc.py": "def add(a, b):\n    return a + b\n\n\ndef div(a, b):\n    return a / b\n\n\ndef mean(xs):\n    return sum(xs) / len(xs)\n",
    "test_calc.py": (
        "import pytest\nfrom calc import add, div, mean\n\n\n"
        + "".join(f"def test_add_{i}():\n    assert add({i}, {i}) == {2 * i}\n\n\n" for i in range(40))
        + "def test_div_zero():\n    assert div(1, 0) == 0\n\n\ndef test_mean_empty():\n    assert mean([]) == 0\n\n\n"
        + "@pytest.mark.parametrize('x', range(12))\ndef test_mean_param(x):\n    assert mean([x, x + 2]) == x + 1.5\n"
    ),
}
CRASH = (
    "import json\n\ndef load(path):\n    with open(path) as f:\n        return json.load(f)\n\n"
    "def settings(root):\n    return {k: load(f'{root}/{k}.json') for k in ('db', 'cache', 'auth')}\n\n"
    "def main():\n    cfg = settings('/nonexistent/config')\n    print(cfg['db']['host'])\n\nmain()\n"
)


def sh(cmd: str, cwd: Path) -> str:
    out = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=120,
                         env={**os.environ, "GIT_PAGER": "cat", "PAGER": "cat", "COLUMNS": "120"})
    text = (out.stdout + out.stderr).strip() or f"(no output, exit {out.returncode})"
    return text[:MAX_OUTPUT]


def make_repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    git = "git -c user.name=dev -c user.email=dev@example.com"
    sh("git init -q -b main .", repo)
    for name, text in TINY_PROJECT.items():
        (repo / name).write_text(text)
    (repo / "crash.py").write_text(CRASH)
    sh(f"{git} add . && {git} commit -qm 'calc: first version'", repo)
    for i in range(25):
        (repo / "calc.py").write_text((repo / "calc.py").read_text() + f"\n\ndef helper_{i}(x):\n    return x * {i} + {i % 7}\n")
        (repo / f"notes_{i % 5}.md").write_text(f"# notes {i}\n" + "- item\n" * (i + 3))
        sh(f"{git} add . && {git} commit -qm 'calc: helper {i} (refs #{100 + i})'", repo)
    (repo / "calc.py").write_text((repo / "calc.py").read_text().replace("return a / b", "if b == 0:\n        return 0\n    return a / b"))
    (repo / "data.json").write_text(json.dumps({"users": [{"id": i, "name": f"user{i}", "roles": ["dev", "ops"][: i % 2 + 1],
                                                           "active": i % 3 != 0, "quota": {"disk": i * 10, "cpu": i % 4}}
                                                          for i in range(60)]}, separators=(",", ":")))
    return repo


def real_outputs(root: Path, turns: int) -> list[tuple[str, str]]:
    """(command, output) pairs, each from running the program for real."""
    repo = make_repo(root)
    py = sys.executable
    commands = [
        "git log --stat -n 8", "ls -la", f"{py} -m pytest -q -p no:cacheprovider", "git diff", f"{py} crash.py",
        "df -h", "ps aux", f"{py} -m json.tool data.json", "git log --oneline", "cat calc.py",
        f"ls -l {Path(py).resolve().parent}", f"{py} -m pytest -q -p no:cacheprovider -k mean", "git show HEAD~3",
        f"{py} -m pip list", "grep -rn 'def ' .", "uname -a; cat /etc/os-release", f"{py} -m pytest -p no:cacheprovider -x",
        "git log -p -n 3", "find / -maxdepth 2 -type d 2>/dev/null | sort", f"{py} -c \"import this\"",
        "ls -la /etc", f"{py} -m json.tool --sort-keys data.json", "git status", "env | cut -d= -f1 | sort",
        f"{py} -m pydoc json.decoder", "git diff HEAD~5 --stat", "ps -eo pid,ppid,stat,rss,cmd --sort=-rss",
        f"{py} -m pytest -q -p no:cacheprovider --tb=long", "git blame calc.py", "git log --stat -n 8 --skip 8",
    ]
    while len(commands) < turns:
        commands += commands
    return [(c, sh(c, repo)) for c in commands[:turns]]


def request_body(api: str, history: list[tuple[str, str]]) -> dict:
    messages: list[dict] = [{"role": "user", "content": "The tests fail; find out why and fix it."}]
    for i, (cmd, out) in enumerate(history):
        if api == "anthropic":
            messages.append({"role": "assistant", "content": [{"type": "text", "text": f"Running `{cmd}`."},
                             {"type": "tool_use", "id": f"toolu_{i:02d}", "name": "bash", "input": {"command": cmd}}]})
            messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{i:02d}", "content": out}]})
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_{i:02d}", "type": "function", "function": {"name": "bash", "arguments": json.dumps({"command": cmd})}}]})
            messages.append({"role": "tool", "tool_call_id": f"call_{i:02d}", "content": out})
    head = {"model": "m", "max_tokens": 1024}
    if api == "anthropic":
        head["system"] = [{"type": "text", "text": "You are a coding agent.", "cache_control": {"type": "ephemeral"}}]
    return {**head, "messages": messages}  # messages last: the byte prefix is the history


def upstream():
    from fastapi import FastAPI, Request

    app = FastAPI()
    app.state.bodies = []

    @app.post("/v1/messages")
    async def messages(request: Request):
        app.state.bodies.append(await request.body())
        return {"id": "m", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "ok"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        app.state.bodies.append(await request.body())
        return {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}

    return app


def timed_post(client, url: str, raw: bytes) -> float:
    started = time.perf_counter()
    r = client.post(url, content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--api", choices=["anthropic", "openai"], default="anthropic")
    parser.add_argument("--model", default="whorf-micro")
    parser.add_argument("--out", type=Path, help="write the per-turn results as JSON here")
    args = parser.parse_args()
    import httpx
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    from whorf.proxy.app import ProxyConfig, create_app

    with tempfile.TemporaryDirectory() as tmp:
        outputs = real_outputs(Path(tmp), args.turns)
    up_app = upstream()
    up_server, up = serve(up_app)
    proxy_server, proxy = serve(create_app(ProxyConfig(upstream=up, model=args.model)))  # default settings
    path = "/v1/messages" if args.api == "anthropic" else "/v1/chat/completions"
    rows, previous = [], None
    with httpx.Client(timeout=120) as client:
        for turn in range(1, args.turns + 1):
            raw = json.dumps(request_body(args.api, outputs[:turn]), ensure_ascii=False).encode()
            direct = timed_post(client, up + path, raw)
            through = timed_post(client, proxy + path, raw)
            sent = up_app.state.bodies[-1]
            changed = previous is not None and not sent.startswith(previous[: previous.rindex(b"]")])
            rows.append({"turn": turn, "command": outputs[turn - 1][0], "new_chars": len(outputs[turn - 1][1]),
                         "added_ms": round(through - direct, 1), "original_bytes": len(raw), "upstream_bytes": len(sent),
                         "prefix_changed": changed})
            previous = sent
        stats = client.get(proxy + "/stats").json()
    report(rows, stats, args)
    if args.out:
        args.out.write_text(json.dumps({"turns": rows, "stats": stats}, indent=1))
    proxy_server.should_exit = up_server.should_exit = True


def report(rows: list[dict], stats: dict, args) -> None:
    print(f"{'turn':>4} {'new chars':>9} {'added ms':>9} {'upstream/original':>18} {'prefix':>7}  command")
    for r in rows:
        ratio = r["upstream_bytes"] / r["original_bytes"]
        flag = "CHANGED" if r["prefix_changed"] else "same"
        print(f"{r['turn']:>4} {r['new_chars']:>9} {r['added_ms']:>9.1f} {ratio:>18.3f} {flag:>7}  {r['command'][:50]}")
    first, last = rows[0], rows[-1]
    total_orig = sum(r["original_bytes"] for r in rows)
    total_up = sum(r["upstream_bytes"] for r in rows)
    print(f"\n{args.turns} turns, api {args.api}, model {stats.get('model')}, default settings")
    print(f"added latency: turn 1 {first['added_ms']:.1f} ms, turn {last['turn']} {last['added_ms']:.1f} ms "
          f"(ratio {last['added_ms'] / max(first['added_ms'], 0.1):.2f}); median of first 5 "
          f"{statistics.median(r['added_ms'] for r in rows[:5]):.1f} ms, last 5 {statistics.median(r['added_ms'] for r in rows[-5:]):.1f} ms")
    print(f"bytes upstream / original: last request {last['upstream_bytes'] / last['original_bytes']:.3f}, "
          f"whole session {total_up / total_orig:.3f}")
    print(f"prefix changes: {sum(r['prefix_changed'] for r in rows)}")
    print(f"proxy: new outputs {stats['new_outputs']}, reused {stats['reused']}, deadline missed {stats['deadline_missed']}, "
          f"shed {stats['shed']}, failures {stats['failures']}")


if __name__ == "__main__":
    main()

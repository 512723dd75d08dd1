"""Session replay benchmark (not a test): a 30-turn agent session through ``whorf proxy``.

    python bench/session_replay.py [--turns 30] [--api anthropic|openai] [--model whorf-micro] [--out r.json]

The tool outputs are real: the script runs real programs in a temporary directory (ls, git log/diff/show
on a temporary repository, pytest on a tiny failing project, a Python traceback, df, ps, json.tool, ...).
Each request re-sends the whole history plus one new tool result, as agents do, once directly to a local
upstream that answers at once and once through the proxy (default settings), twice: without queries
and with them (the proxy reads the agent's intent, "Running `git log --oneline` to find the commit that
added helper 7", from the conversation). Reported per turn: the latency the proxy added, bytes sent
upstream / bytes the client sent, whether the history the upstream saw changed from the previous request
(a prefix change: a prompt-cache miss), and how many of the turn's answer lines (a pattern over the real
output: the FAILED lines, the httpx row of pip list) reached the upstream unchanged.

Cost net of the prompt cache (Anthropic API): the local upstream keeps a prompt cache per conversation
(``metadata.user_id``: one for the direct requests, one for the proxied ones) and answers with usage the way
a caching upstream does: the longest prefix a request shares with an earlier request of its conversation is
a cache read, the rest of the prompt a cache write (the breakpoint at the end of the prompt, as Claude Code
sets it), tokens counted as bytes / 4 (the budget's own approximation; no Claude tokenizer is available
offline). The proxy's ledger (``/stats`` usage) is then checked against a hand computation from those
recorded usages, and its estimate of the uncompressed cost against the direct conversation's measured one.
"""


import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reports  # bench/reports.py (bench/ is the script's directory)

from whorf.config import DEFAULT_QUERY_BUDGET_TOKENS
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


# (command, what the agent says it runs it for, a pattern of the answer: every match in the real output
# must reach the upstream unchanged). {py} is this interpreter, {bin} its directory.
TURNS = [
    ("git log --stat -n 8", "to see which recent commits touched calc.py", r"(?m)^ +calc: helper.*$"),
    ("ls -la", "to check that test_calc.py is there", r"(?m)^.*test_calc\.py$"),
    ("{py} -m pytest -q -p no:cacheprovider", "to see which tests fail", r"(?m)^FAILED .*$"),
    ("git diff", "to see the uncommitted change to div", r"(?m)^[+-] .*$"),
    ("{py} crash.py", "to see where loading the config crashes", r"(?m)^\w*Error.*$"),
    ("df -h", "to check the free disk space of the root filesystem /", r"(?m)^.* /$"),
    ("ps aux", "to check that the process_api init process runs", r"(?m)^.*process_api.*$"),
    ("{py} -m json.tool data.json", "to read the quota of user17", r'"user17"'),
    ("git log --oneline", "to find the commit that added helper 7", r"(?m)^.*helper 7 .*$"),
    ("cat calc.py", "to read div and mean", r"(?m)^def (div|mean).*$"),
    ("ls -l {bin}", "to find the pip executable", r"(?m)^.* pip[\d.]*$"),
    ("{py} -m pytest -q -p no:cacheprovider -k mean", "to rerun the mean tests", r"(?m)^FAILED .*$"),
    ("git show HEAD~3", "to see what the commit of helper 21 added", r"(?m)^\+def helper_21.*$"),
    ("{py} -m pip list", "to check which version of httpx is installed", r"(?m)^httpx .*$"),
    ("grep -rn 'def ' .", "to find where mean is defined", r"(?m)^.*def mean.*$"),
    ("uname -a; cat /etc/os-release", "to check the OS release", r"(?m)^PRETTY_NAME=.*$"),
    ("{py} -m pytest -p no:cacheprovider -x", "to see the first failing assertion", r"(?m)^E .*$"),
    ("git log -p -n 3", "to read the code of the last three helpers", r"(?m)^\+def helper_.*$"),
    ("find / -maxdepth 2 -type d 2>/dev/null | sort", "to find the directories under /work", r"(?m)^/work/.*$"),
    ("{py} -c \"import this\"", "to read what the Zen says about errors", r"Errors"),
    ("ls -la /etc", "to find the hosts file", r"(?m)^.* hosts$"),
    ("{py} -m json.tool --sort-keys data.json", "to see the roles of user42", r'"user42"'),
    ("git status", "to see which files are modified", r"(?m)^\s+modified:.*$"),
    ("env | cut -d= -f1 | sort", "to find the CA bundle variables", r"(?m)^.*CA_BUNDLE.*$"),
    ("{py} -m pydoc json.decoder", "to read how JSONDecodeError is defined", r"(?m)^.*class JSONDecodeError.*$"),
    ("git diff HEAD~5 --stat", "to see how many lines calc.py gained", r"(?m)^ ?calc\.py .*$"),
    ("ps -eo pid,ppid,stat,rss,cmd --sort=-rss", "to see how much memory the python processes use", r"(?m)^.*python.*$"),
    ("{py} -m pytest -q -p no:cacheprovider --tb=long", "to read the long traceback of test_mean_empty",
     r"(?m)^E +ZeroDivisionError.*$"),
    ("git blame calc.py", "to see who added the zero check in div", r"(?m)^.*if b == 0.*$"),
    ("git log --stat -n 8 --skip 8", "to find the older commits that touched notes_0.md", r"(?m)^ notes_0\.md.*$"),
]


def real_outputs(root: Path, turns: int) -> list[dict]:
    """One turn per command: the command, the agent's purpose, the answer pattern and the real output."""
    repo = make_repo(root)
    py = sys.executable
    plan = (TURNS * (turns // len(TURNS) + 1))[:turns]
    out = []
    for command, purpose, answer in plan:
        command = command.format(py=py, bin=Path(py).resolve().parent)
        out.append({"command": command, "purpose": purpose, "answer": answer, "output": sh(command, repo)})
    return out


def answers(turn: dict) -> list[str]:
    """The answer's text in the real output (every match of the turn's pattern)."""
    return [m.group(0) for m in re.finditer(turn["answer"], turn["output"])]


def request_body(api: str, history: list[dict], lane: str = "replay") -> dict:
    messages: list[dict] = [{"role": "user", "content": "The tests fail; find out why and fix it."}]
    for i, turn in enumerate(history):
        cmd, out, said = turn["command"], turn["output"], f"Running `{turn['command']}` {turn['purpose']}."
        if api == "anthropic":
            messages.append({"role": "assistant", "content": [{"type": "text", "text": said},
                             {"type": "tool_use", "id": f"toolu_{i:02d}", "name": "bash", "input": {"command": cmd}}]})
            messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{i:02d}", "content": out}]})
        else:
            messages.append({"role": "assistant", "content": said, "tool_calls": [
                {"id": f"call_{i:02d}", "type": "function", "function": {"name": "bash", "arguments": json.dumps({"command": cmd})}}]})
            messages.append({"role": "tool", "tool_call_id": f"call_{i:02d}", "content": out})
    head = {"model": "m", "max_tokens": 1024, "metadata": {"user_id": lane}}
    if api == "anthropic":
        head["system"] = [{"type": "text", "text": "You are a coding agent.", "cache_control": {"type": "ephemeral"}}]
    return {**head, "messages": messages}  # messages last: the byte prefix is the history


def last_output(api: str, sent: bytes) -> str:
    """The newest tool output as the upstream received it."""
    last = json.loads(sent)["messages"][-1]
    return last["content"][0]["content"] if api == "anthropic" else last["content"]


def upstream():
    from fastapi import FastAPI, Request

    app = FastAPI()
    app.state.bodies = []
    app.state.cache = {}  # conversation -> the prompts it sent
    app.state.usage = {}  # conversation -> the usage of each answer

    @app.post("/v1/messages")
    async def messages(request: Request):
        body = await request.body()
        app.state.bodies.append(body)
        lane = (json.loads(body).get("metadata") or {}).get("user_id", "")
        usage = cached_usage(app.state.cache.setdefault(lane, []), body)
        app.state.usage.setdefault(lane, []).append(usage)
        return {"id": "m", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "ok"}],
                "usage": usage}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        app.state.bodies.append(await request.body())
        return {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}

    return app


OUTPUT_TOKENS = 24  # the scripted answer's length


def cached_usage(earlier: list[bytes], body: bytes) -> dict:
    """Usage as a prompt-caching upstream reports it: the longest prefix shared with an earlier prompt of
    the conversation is read from the cache, the rest written to it (tokens = bytes / 4)."""
    shared = max((len(os.path.commonprefix([body, e])) for e in earlier), default=0)
    earlier.append(body)
    total, read = -(-len(body) // 4), shared // 4
    return {"input_tokens": 0, "cache_read_input_tokens": read, "cache_creation_input_tokens": total - read,
            "output_tokens": OUTPUT_TOKENS}


def priced(usages: list[dict], prices) -> dict:
    """The hand computation: the recorded usages summed and priced."""
    sums = {k: sum(u[k] for u in usages) for k in ("input_tokens", "cache_read_input_tokens",
                                                 "cache_creation_input_tokens", "output_tokens")}
    cost = (sums["input_tokens"] * prices.input + sums["cache_read_input_tokens"] * prices.cache_read
            + sums["cache_creation_input_tokens"] * prices.cache_write + sums["output_tokens"] * prices.output) / 1e6
    prompt = sums["input_tokens"] + sums["cache_read_input_tokens"] + sums["cache_creation_input_tokens"]
    return {**sums, "cost": round(cost, 6), "cache_hit_rate": round(sums["cache_read_input_tokens"] / max(prompt, 1), 4)}


def cost_check(config, up_app, lanes: tuple[str, str], stats: dict) -> dict:
    """The ledger against the hand computation, and its uncompressed estimate against the direct run."""
    direct, proxied = (priced(up_app.state.usage.get(lane, []), config.prices) for lane in lanes)
    ledger = stats["usage"]["sessions"].get(lanes[1], {})
    return {"prices_per_million": stats["usage"]["prices_per_million"], "direct": direct, "proxied": proxied,
            "ledger": ledger,
            "ledger_matches_hand": bool(ledger) and abs(ledger["cost"] - proxied["cost"]) < 1e-6
            and all(ledger[f"tokens_{k}"] == proxied[v] for k, v in (("input", "input_tokens"),
                    ("cache_read", "cache_read_input_tokens"), ("cache_write", "cache_creation_input_tokens"),
                    ("output", "output_tokens"))),
            "saved_measured": round(direct["cost"] - proxied["cost"], 6),
            "estimate_error": round(ledger.get("cost_uncompressed_estimate", 0) - direct["cost"], 6) if ledger else None}


def timed_post(client, url: str, raw: bytes) -> float:
    started = time.perf_counter()
    r = client.post(url, content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    return (time.perf_counter() - started) * 1000


def replay(config, outputs: list[dict], api: str, client, up_app, up: str) -> tuple[list[dict], dict]:
    """The whole session through one fresh proxy built from ``config``: one row per turn."""
    from whorf.proxy.app import create_app

    proxy_server, proxy = serve(create_app(config))
    path = "/v1/messages" if api == "anthropic" else "/v1/chat/completions"
    rows, previous = [], None
    lanes = (f"direct-{id(config)}", f"proxied-{id(config)}")
    for turn, out in enumerate(outputs, 1):
        direct_raw, raw = (json.dumps(request_body(api, outputs[:turn], lane), ensure_ascii=False).encode()
                           for lane in lanes)
        direct = timed_post(client, up + path, direct_raw)
        through = timed_post(client, proxy + path, raw)
        sent = up_app.state.bodies[-1]
        changed = previous is not None and not sent.startswith(previous[: previous.rindex(b"]")])
        seen = last_output(api, sent)
        wanted = answers(out)
        rows.append({"turn": turn, "command": out["command"], "new_chars": len(out["output"]),
                     "new_chars_upstream": len(seen), "added_ms": round(through - direct, 1),
                     "original_bytes": len(raw), "upstream_bytes": len(sent), "prefix_changed": changed,
                     "answers": len(wanted), "answers_kept": sum(a in seen for a in wanted)})
        previous = sent
    stats = client.get(proxy + "/stats").json()
    if api == "anthropic":
        stats["cost_check"] = cost_check(config, up_app, lanes, stats)
    proxy_server.should_exit = True
    return rows, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--api", choices=["anthropic", "openai"], default="anthropic")
    parser.add_argument("--model", default="whorf-micro")
    parser.add_argument("--query-budgets", default=str(DEFAULT_QUERY_BUDGET_TOKENS),
                        help="comma-separated budgets (tokens) of outputs the intent names something in, one run each")
    parser.add_argument("--out", type=Path, help="write the per-turn results of every run as JSON here")
    args = parser.parse_args()
    import httpx
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    from whorf.proxy.app import ProxyConfig

    with tempfile.TemporaryDirectory() as tmp:
        outputs = real_outputs(Path(tmp), args.turns)
    missing = [o["command"] for o in outputs if not answers(o)]
    if missing:
        print(f"warning: no answer in the real output of {missing}")
    up_app = upstream()
    up_server, up = serve(up_app)
    runs = {}
    with httpx.Client(timeout=120) as client:
        budgets = [int(b) for b in args.query_budgets.split(",")]
        for name, queries, budget in [("no queries", False, None)] + [(f"queries, {b} tokens", True, b) for b in budgets]:
            config = ProxyConfig(upstream=up, model=args.model, queries=queries, query_budget_tokens=budget)
            rows, stats = replay(config, outputs, args.api, client, up_app, up)
            runs[name] = {"queries": queries, "query_budget_tokens": budget, "turns": rows, "stats": stats}
            report(name, rows, stats, args)
    off = sum(r["upstream_bytes"] for r in runs["no queries"]["turns"])
    for name, run in runs.items():
        on = sum(r["upstream_bytes"] for r in run["turns"])
        print(f"{name:>22}: bytes upstream / without queries {on / off:.3f}, answers kept "
              f"{sum(r['answers_kept'] for r in run['turns'])}/{sum(r['answers'] for r in run['turns'])}, "
              f"prefix changes {sum(r['prefix_changed'] for r in run['turns'])}")
    if args.out:
        data = {"api": args.api, "model": args.model, "turns": args.turns, "runs": runs}
        reports.write(args.out, data, page)
    up_server.should_exit = True


def page(data: dict) -> str:
    """docs/eval/session.md, from the report alone."""
    runs = data["runs"]
    off = sum(r["upstream_bytes"] for r in runs["no queries"]["turns"])
    md = ["# A replayed agent session through the proxy", "",
          f"Command: `python bench/session_replay.py --query-budgets ... --out docs/eval/session.json` (api "
          f"{data['api']}, model {data['model']}, {data['turns']} turns). Each request re-sends the whole history; the "
          "proxy runs once without queries and once per query budget (the budget of an output the agent's intent "
          "names something in). Answer lines: every match of the turn's answer pattern in the real output.", "",
          "| run | bytes upstream / without queries | bytes upstream / client's | answer lines kept | prefix changes | "
          "added ms, median |", "|---|---|---|---|---|---|"]
    for name, run in runs.items():
        turns = run["turns"]
        up, orig = sum(r["upstream_bytes"] for r in turns), sum(r["original_bytes"] for r in turns)
        md.append(f"| {name} | {up / off:.3f} | {up / orig:.3f} | {sum(r['answers_kept'] for r in turns)}/"
                  f"{sum(r['answers'] for r in turns)} | {sum(r['prefix_changed'] for r in turns)} | "
                  f"{statistics.median(r['added_ms'] for r in turns):.1f} |")
    md += cost_table(runs)
    names = list(runs)
    md += ["", "Per turn, characters of the new output as the upstream received it:", "",
           "| turn | command | input | " + " | ".join(names) + " |", "|---|---|---|" + "---|" * len(names)]
    for i, turn in enumerate(runs[names[0]]["turns"]):
        cells = [f"{runs[n]['turns'][i]['new_chars_upstream']:,}" for n in names]
        md.append(f"| {turn['turn']} | `{_short(turn['command'])}` | {turn['new_chars']:,} | " + " | ".join(cells) + " |")
    return "\n".join(md) + "\n"


def cost_table(runs: dict) -> list[str]:
    """Cost net of the prompt cache, per run: measured on the direct and the proxied conversations, the
    ledger against the hand computation, the ledger's uncompressed estimate against the direct one."""
    checks = [(name, run["stats"]["cost_check"]) for name, run in runs.items() if run["stats"].get("cost_check")]
    if not checks:
        return []
    p = checks[0][1]["prices_per_million"]
    md = ["", f"Cost net of the prompt cache, from the usage the caching upstream returned (dollars per million tokens: "
          f"input {p['input']}, cache read {p['cache_read']}, cache write {p['cache_write']}, output {p['output']}):", "",
          "| run | direct: cost, cache hit rate | through the proxy: cost, cache hit rate | saved (measured) | "
          "ledger = hand computation | ledger's uncompressed estimate (error) | cache misses | flagged |",
          "|---|---|---|---|---|---|---|---|"]
    for name, c in checks:
        d, q, led = c["direct"], c["proxied"], c["ledger"]
        md.append(f"| {name} | ${d['cost']:.4f}, {d['cache_hit_rate']:.3f} | ${q['cost']:.4f}, {q['cache_hit_rate']:.3f} | "
                  f"${c['saved_measured']:.4f} ({c['saved_measured'] / d['cost']:.0%}) | "
                  f"{'yes' if c['ledger_matches_hand'] else 'NO'} (${led.get('cost', 0):.4f}) | "
                  f"${led.get('cost_uncompressed_estimate', 0):.4f} ({c['estimate_error']:+.4f}) | "
                  f"{led.get('cache_misses')} | {'yes' if led.get('costs_more_than_it_saves') else 'no'} |")
    return md


def _short(command: str) -> str:
    return re.sub(r"\S*/python\S*", "python", command)[:60].replace("|", "\\|")


def report(name: str, rows: list[dict], stats: dict, args) -> None:
    print(f"\n## {name}\n{'turn':>4} {'new chars':>9} {'upstream':>8} {'added ms':>9} {'answers':>8} {'prefix':>7}  command")
    for r in rows:
        flag = "CHANGED" if r["prefix_changed"] else "same"
        print(f"{r['turn']:>4} {r['new_chars']:>9} {r['new_chars_upstream']:>8} {r['added_ms']:>9.1f} "
              f"{r['answers_kept']:>4}/{r['answers']:<3} {flag:>7}  {r['command'][:50]}")
    total_orig = sum(r["original_bytes"] for r in rows)
    total_up = sum(r["upstream_bytes"] for r in rows)
    print(f"{args.turns} turns, api {args.api}, model {stats.get('model')}, {name}")
    print(f"added latency: median of first 5 {statistics.median(r['added_ms'] for r in rows[:5]):.1f} ms, "
          f"last 5 {statistics.median(r['added_ms'] for r in rows[-5:]):.1f} ms")
    print(f"bytes upstream / original: last request {rows[-1]['upstream_bytes'] / rows[-1]['original_bytes']:.3f}, "
          f"whole session {total_up / total_orig:.3f}")
    print(f"answers kept: {sum(r['answers_kept'] for r in rows)}/{sum(r['answers'] for r in rows)}, turns with every "
          f"answer {sum(r['answers_kept'] == r['answers'] for r in rows)}/{len(rows)}")
    print(f"prefix changes: {sum(r['prefix_changed'] for r in rows)}")
    print(f"proxy: new outputs {stats['new_outputs']}, reused {stats['reused']}, deadline missed {stats['deadline_missed']}, "
          f"shed {stats['shed']}, failures {stats['failures']}")


if __name__ == "__main__":
    main()

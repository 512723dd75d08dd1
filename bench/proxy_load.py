"""Proxy load benchmark (not a test): 200 requests at concurrency 20 through ``whorf proxy``.

    python bench/proxy_load.py [--requests 200] [--concurrency 20] [--model whorf-micro]

A local upstream answers instantly; the same requests go once directly to it and once through the proxy
(real uvicorn servers on loopback). Prints the latency added by the proxy (p50/p99), tokens saved,
failures, and checks that every pair was logged exactly once.
"""


import argparse
import asyncio
import json
import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import reports  # bench/reports.py (bench/ is the script's directory)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "whorf" / "examples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app):
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}"


def upstream():
    from fastapi import FastAPI, Request

    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        await request.body()
        return {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}

    return app


def body(i: int, tool_output: str) -> dict:
    return {"model": "m", "messages": [
        {"role": "user", "content": "what failed?"},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "bash", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": f"{tool_output}\nrequest {i}"},
    ]}


async def fire(url: str, n: int, concurrency: int, tool_output: str) -> list[float]:
    import httpx

    sem = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=120) as client:
        async def one(i: int):
            async with sem:
                t = time.perf_counter()
                r = await client.post(f"{url}/v1/chat/completions", json=body(i, tool_output))
                latencies.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
        await asyncio.gather(*(one(i) for i in range(n)))
    return latencies


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--model", default="whorf-micro")
    parser.add_argument("--deadline-ms", type=float, default=2000, help="the proxy's deadline")
    parser.add_argument("--max-queue", type=int, default=4, help="the proxy's queue bound (load shedding)")
    parser.add_argument("--json", type=Path, help="append this run to a JSON report (a list of runs)")
    args = parser.parse_args()
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    from whorf.proxy.app import ProxyConfig, create_app

    tool_output = (EXAMPLES / "traceback.txt").read_text() + (EXAMPLES / "app.log").read_text()
    up_server, up = serve(upstream())
    db = Path(tempfile.mkdtemp()) / "pairs.sqlite"
    app = create_app(ProxyConfig(upstream=up, log_pairs=True, db_url=f"sqlite:///{db}", model=args.model, deadline_ms=args.deadline_ms, max_queue=args.max_queue))
    proxy_server, proxy = serve(app)
    direct = asyncio.run(fire(up, args.requests, args.concurrency, tool_output))
    started = time.perf_counter()
    through = asyncio.run(fire(proxy, args.requests, args.concurrency, tool_output))
    wall = time.perf_counter() - started
    stats = json.loads(__import__("httpx").get(f"{proxy}/stats").text)
    deadline = time.time() + 30
    while app.state.proxy.pairs.count() < stats["tool_outputs_compressed"] and time.time() < deadline:
        time.sleep(0.1)
    pairs = app.state.proxy.pairs.count()
    tool_tokens = stats["tokens_before"] / max(stats["tool_outputs_compressed"], 1)
    print(f"{args.requests} requests at concurrency {args.concurrency}, tool output ~{tool_tokens:.0f} tokens, "
          f"model {args.model}, deadline {args.deadline_ms:.0f} ms, max queue {args.max_queue}")
    print(f"direct:  p50 {pct(direct, 50):.1f} ms, p99 {pct(direct, 99):.1f} ms")
    print(f"proxied: p50 {pct(through, 50):.1f} ms, p99 {pct(through, 99):.1f} ms ({args.requests / wall:.1f} req/s)")
    print(f"added:   p50 {pct(through, 50) - pct(direct, 50):.1f} ms, p99 {pct(through, 99) - pct(direct, 99):.1f} ms")
    print(f"compression alone (per request, /stats): p50 {stats['latency_ms']['p50']:.1f} ms, p99 {stats['latency_ms']['p99']:.1f} ms")
    print(f"compressed {stats['tool_outputs_compressed']}/{stats['tool_outputs_seen']}, failures {stats['failures']}, shed {stats['shed']}, "
          f"tokens {stats['tokens_before']} -> {stats['tokens_after']} ({stats['savings']:.1%} saved), pairs logged {pairs}")
    if args.json:
        runs = json.loads(args.json.read_text()) if args.json.is_file() else []
        runs.append({"requests": args.requests, "concurrency": args.concurrency, "model": args.model,
                     "deadline_ms": args.deadline_ms, "max_queue": args.max_queue, "tool_tokens": round(tool_tokens),
                     "added_p50_ms": pct(through, 50) - pct(direct, 50), "added_p99_ms": pct(through, 99) - pct(direct, 99),
                     "compressed": stats["tool_outputs_compressed"], "seen": stats["tool_outputs_seen"],
                     "shed": stats["shed"], "failures": stats["failures"], "pairs": pairs})
        reports.write(args.json, runs)
    proxy_server.should_exit = up_server.should_exit = True


if __name__ == "__main__":
    main()

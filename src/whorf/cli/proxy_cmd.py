"""``whorf proxy`` and ``whorf pairs export``."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import List, Optional

import typer

from whorf.cli.app import UserError, app, err, handle_errors
from whorf.registry import DEFAULT_MODEL
from whorf.proxy.config import ProxyConfig

pairs_app = typer.Typer(help="The proxy's pair log (original, compressed) as training data.", no_args_is_help=True)
app.add_typer(pairs_app, name="pairs")


@app.command()
@handle_errors
def proxy(
    upstream: str = typer.Option(..., "--upstream", help="The LLM API to forward to, e.g. https://api.anthropic.com"),
    host: str = typer.Option(ProxyConfig.host, "--host", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(ProxyConfig.port, "--port"),
    log_pairs: bool = typer.Option(False, "--log-pairs", help="Record every (original, compressed) pair in the database."),
    db: Optional[str] = typer.Option(None, "--db", help="SQLAlchemy URL of the pair log (default: SQLite in ~/.cache/whorf)."),
    min_chars: int = typer.Option(ProxyConfig.min_chars, "--min-chars", help="Leave tool outputs shorter than this untouched."),
    exclude_tool: List[str] = typer.Option([], "--exclude-tool", help="Never compress outputs of this tool (repeatable)."),
    rate: Optional[float] = typer.Option(None, "--rate", help="Keep this fraction of words."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Keep words scoring above this."),
    deadline_ms: float = typer.Option(ProxyConfig.deadline_ms, "--deadline-ms", help="Past this, forward the original (counted as a failure)."),
    max_queue: int = typer.Option(ProxyConfig.max_queue, "--max-queue", help="With this many requests already waiting for compression, forward new ones uncompressed at once."),
    retrieve: bool = typer.Option(False, "--retrieve", help="Offer the model a whorf_retrieve tool that returns what was cut."),
    retrieve_hint: bool = typer.Option(True, "--retrieve-hint/--no-retrieve-hint",
                                       help="End an output with markers with the command that prints an omitted part "
                                            "(whorf retrieve HANDLE; off where the agent's shell is not on this machine)."),
    persist_forms: bool = typer.Option(False, "--persist-forms", help="Remember each output's form in the database (stable across restarts)."),
    cache_mb: int = typer.Option(ProxyConfig.cache_bytes // 2**20, "--cache-mb", help="Memory bound of the cache of compressed outputs."),
    kill_after_s: float = typer.Option(ProxyConfig.kill_after_s, "--kill-after-s", help="Restart the compression worker when one job runs this long."),
    dashboard_token: Optional[str] = typer.Option(None, "--dashboard-token", help="Also serve /dashboard to non-loopback hosts that pass this token."),
    model: str = typer.Option(ProxyConfig.model, "--model", "-m"),
    runtime: str = typer.Option(ProxyConfig.runtime, "--runtime", help="auto (shipped int8 ONNX graph, no torch needed), torch, torch-bf16, onnx or onnx-int8."),
    upstream_timeout: float = typer.Option(ProxyConfig.upstream_timeout, "--upstream-timeout", help="Seconds to wait for the upstream (a 504 in the API's own error format after)."),
    queries: bool = typer.Option(ProxyConfig.queries, "--queries/--no-queries", help="Read the agent's intent from the conversation: over the budget the least relevant units go first."),
    budget: int = typer.Option(ProxyConfig.budget_tokens, "--budget", min=1, help="Tokens an output may keep after lossless re-encoding."),
    query_budget: int = typer.Option(ProxyConfig.query_budget_tokens, "--query-budget", min=1, help="The budget of an output the agent's intent names something in."),
) -> None:
    """Run the compressing proxy between an agent and its LLM API (Anthropic and OpenAI formats)."""
    import uvicorn

    from whorf.proxy.app import create_app
    from whorf.proxy.guard import redact_url

    if not upstream.startswith(("http://", "https://")):
        raise UserError("--upstream must be an http:// or https:// URL")
    config = ProxyConfig(upstream=upstream, host=host, port=port, log_pairs=log_pairs, db_url=db, min_chars=min_chars,
                         exclude_tools=tuple(exclude_tool), rate=rate, threshold=threshold, deadline_ms=deadline_ms, max_queue=max_queue,
                         model=model, runtime=runtime, retrieve=retrieve, retrieve_hint=retrieve_hint,
                         persist_forms=persist_forms,
                         cache_bytes=cache_mb * 2**20, kill_after_s=kill_after_s, dashboard_token=dashboard_token,
                         queries=queries, budget_tokens=budget, query_budget_tokens=query_budget,
                         upstream_timeout=upstream_timeout)
    from whorf.data.pairs import PairLogError

    try:
        application = create_app(config)
    except PairLogError as exc:
        raise UserError(str(exc)) from None
    err.print(f"whorf proxy on http://{host}:{port} -> {redact_url(upstream)} (dashboard: http://{host}:{port}/dashboard)")
    uvicorn.run(application, host=host, port=port, log_level="warning")


@pairs_app.command("export")
@handle_errors
def export(
    out: Path = typer.Option(..., "--out", "-o", help="JSONL of {text, reference, source: proxy, domain}."),
    db: Optional[str] = typer.Option(None, "--db", help="SQLAlchemy URL of the pair log."),
    since: Optional[datetime] = typer.Option(None, "--since", help="Only pairs logged at or after this time (ISO 8601)."),
    min_ratio: float = typer.Option(1.0, "--min-ratio", help="Only pairs whose original is at least this many times longer."),
) -> None:
    """Export logged pairs as training data for whorf train / whorf selflabel."""
    from whorf.data.pairs import PairLog

    if since and since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    log = PairLog(db)
    result = log.export(out, since, min_ratio)
    print(f"wrote {result['written']} pairs to {out} ({result['skipped']} below --min-ratio or empty)")


@app.command("stats")
@handle_errors
def stats(
    url: str = typer.Option(f"http://{ProxyConfig.host}:{ProxyConfig.port}", "--url", help="The running proxy."),
    as_json: bool = typer.Option(False, "--json", help="Print the proxy's whole /stats as JSON."),
) -> None:
    """What a running proxy compressed and what its sessions cost, net of the prompt cache."""
    import json

    import httpx

    try:
        snap = httpx.get(url.rstrip("/") + "/stats", timeout=10).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise UserError(f"no whorf proxy answered at {url} ({type(exc).__name__})") from None
    if as_json:
        print(json.dumps(snap, indent=1))
        return
    _print_stats(snap)


def _dollars(v) -> str:
    return "-" if v is None else f"${v:.4f}"


def _print_stats(snap: dict) -> None:
    """The headline (saved net of the prompt cache), then one row per session: what went, on what
    evidence, what the model asked back or re-ran, and what it cost."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    h = snap.get("headline", {})
    share = f" ({h['saved_net_share']:.1%} of the cost)" if h.get("saved_net_share") is not None else ""
    console.print(f"saved net of the prompt cache: [bold]{_dollars(h.get('saved_net_of_cache'))}[/bold]{share}; "
                  f"cost {_dollars(h.get('cost'))} against {_dollars(h.get('cost_uncompressed_estimate'))} uncompressed "
                  f"(estimate)")
    ratio = h.get("tool_output_token_ratio")
    console.print(f"requests {snap.get('requests', 0)}, tool outputs compressed {snap.get('tool_outputs_compressed', 0)}/"
                  f"{snap.get('tool_outputs_seen', 0)}, raw token ratio of the tool outputs "
                  f"{'-' if ratio is None else f'{ratio:.3f}'} (after/before), retrievals {snap.get('retrievals', 0)}")
    total = snap.get("usage", {}).get("total", {})
    if total:
        console.print(f"upstream usage: input {total.get('tokens_input', 0)}, cache reads {total.get('tokens_cache_read', 0)}, "
                      f"cache writes {total.get('tokens_cache_write', 0)}, output {total.get('tokens_output', 0)} "
                      f"(prices per million tokens {snap.get('usage', {}).get('prices_per_million')})")
    table = Table(title="sessions")
    for column in ("session", "requests", "outputs", "dropped by reason", "query terms", "retrievals", "re-runs",
                   "cache misses", "cost", "saved net"):
        table.add_column(column)
    for key, s in snap.get("sessions", {}).items():
        reasons = ", ".join(f"{k} {n}" for k, n in (s.get("omitted_by_reason") or {}).items()) or "none"
        table.add_row(key, str(s.get("requests", 0)), str(s.get("outputs_compressed", 0)), reasons,
                      ", ".join(s.get("query_terms") or []) or "-", str(s.get("retrievals", 0)),
                      f"{s.get('reruns', 0)} ({s.get('rerun_rate', 0.0):.0%})", str(s.get("cache_misses", 0)),
                      _dollars(s.get("cost")), _dollars(s.get("saved_net_of_cache")))
    console.print(table)
    for key, s in snap.get("usage", {}).get("sessions", {}).items():
        if s.get("costs_more_than_it_saves"):
            console.print(f"session {key}: {s['cache_misses']} cache misses cost ${s['cache_miss_cost']:.4f}, more "
                          f"than the ${s['saved']:.4f} compression saved")

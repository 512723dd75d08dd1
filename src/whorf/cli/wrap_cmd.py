"""``whorf wrap claude|codex``: run a coding agent through the proxy, starting the proxy if needed."""

from __future__ import annotations

import os
import sys
import shutil
from typing import List, Optional

import typer

from whorf.cli.app import UserError, app, err, handle_errors
from whorf.registry import DEFAULT_MODEL

AGENTS = {
    # agent: (default upstream, environment variable, path the agent expects after the base URL)
    "claude": ("https://api.anthropic.com", "ANTHROPIC_BASE_URL", ""),
    "codex": ("https://api.openai.com", "OPENAI_BASE_URL", "/v1"),
}
INSTALL = {"claude": "npm install -g @anthropic-ai/claude-code", "codex": "npm install -g @openai/codex"}
# Codex takes its endpoint from its own config, not from OPENAI_BASE_URL: a -c override for this run only
# (the user's config files are not touched)
CONFIG_ARGS = {"codex": lambda base: ["-c", f"openai_base_url={base}"]}


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@handle_errors
def wrap(
    ctx: typer.Context,
    agent: str = typer.Argument(..., help="claude or codex; arguments after it go to the agent."),
    port: int = typer.Option(8787, "--port", help="The proxy's port (a proxy already there is reused)."),
    upstream: Optional[str] = typer.Option(None, "--upstream", help="Default: the agent's own API."),
    binary: Optional[str] = typer.Option(None, "--bin", help="The agent's executable (default: found on PATH)."),
    retrieve: bool = typer.Option(False, "--retrieve", help="Start the proxy with --retrieve."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m"),
    start_timeout: float = typer.Option(300.0, "--start-timeout", help="Seconds to wait for a new proxy to load its model."),
) -> None:
    """Run claude or codex with its API base URL pointed at a whorf proxy (started when none is running)."""
    from whorf.proxy.launch import ensure_proxy

    if agent not in AGENTS:
        raise UserError(f"unknown agent {agent!r}: choose one of {', '.join(AGENTS)}")
    default_upstream, variable, suffix = AGENTS[agent]
    path = shutil.which(binary or agent)
    if path is None:
        raise UserError(f"{binary or agent} was not found on PATH; install it ({INSTALL[agent]}) or pass --bin")
    args: List[str] = list(ctx.args)
    proxy_args = ["--model", model] + (["--retrieve"] if retrieve else [])
    url, started = ensure_proxy(port, upstream or default_upstream, proxy_args, start_timeout)
    err.print(f"whorf: {'started' if started else 'using'} proxy {url} -> {upstream or default_upstream}")
    env = dict(os.environ, **{variable: url + suffix})
    here = os.path.dirname(sys.executable)  # the agent's shell finds `whorf retrieve` (markers name it)
    if os.path.exists(os.path.join(here, "whorf")) and here not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = here + os.pathsep + env.get("PATH", "")
    extra = CONFIG_ARGS[agent](url + suffix) if agent in CONFIG_ARGS else []
    os.execvpe(path, [path, *extra, *args], env)

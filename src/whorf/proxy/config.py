"""The proxy's settings, with their defaults in one place (the CLI's options read them from here).

Light to import: nothing of the web stack, so ``whorf proxy --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whorf.config import DEFAULT_BUDGET_TOKENS, DEFAULT_QUERY_BUDGET_TOKENS, CompressOptions
from whorf.proxy.usage import Prices
from whorf.registry import DEFAULT_MODEL


@dataclass
class ProxyConfig:
    upstream: str
    host: str = "127.0.0.1"
    port: int = 8787
    log_pairs: bool = False
    db_url: str | None = None
    persist_forms: bool = False  # record each output's form in the database too (survives restarts)
    min_chars: int = 400
    exclude_tools: tuple[str, ...] = ()
    rate: float | None = None
    threshold: float | None = None
    deadline_ms: float = 2000.0
    max_queue: int = 4  # requests waiting for compression beyond this are forwarded at once (shed)
    kill_after_s: float = 30.0  # a compression running this long is killed (worker restarted)
    cache_bytes: int = 256 * 2**20  # bound of the in-memory forms cache
    retrieve: bool = False  # add the whorf_retrieve tool and answer it
    # a compressed output whose markers omitted parts ends with the shell command that prints one
    # (``whorf retrieve HANDLE``, from the local store): for agents that run shell commands where the proxy runs
    retrieve_hint: bool = True
    dashboard_token: str | None = None  # lets non-loopback Host headers read /dashboard and /api/recent
    pair_retry_s: float = 120.0  # how long a pair row is retried while the database is busy
    upstream_timeout: float = 600.0
    # a body over this is forwarded as the client sent it, never parsed (parsing a huge body costs many
    # times its size in memory, and the allocator does not give all of it back)
    max_body_bytes: int = 64 * 2**20
    model: str = DEFAULT_MODEL
    runtime: str = "auto"
    # build each output's query from the conversation (the agent's intent); over the budget the units least
    # relevant to it go first, and an output the query names something in gets query_budget_tokens
    queries: bool = True
    budget_tokens: int | None = DEFAULT_BUDGET_TOKENS
    query_budget_tokens: int | None = DEFAULT_QUERY_BUDGET_TOKENS
    prices: Prices = field(default_factory=Prices)  # dollars per million tokens, for /stats' usage and cost
    options: CompressOptions = field(init=False)

    def __post_init__(self) -> None:
        self.options = CompressOptions(rate=self.rate, threshold=self.threshold, budget_tokens=self.budget_tokens,
                                       query_budget_tokens=self.query_budget_tokens)

"""Teacher distillation the LLMLingua-2 way (the seed's C3 step).

Any OpenAI-compatible chat endpoint is asked to compress each text by deleting words only. Its answer
is aligned back to the original words (order-preserving); answers that add or reorder too many words
are dropped (their share is the variation rate), and the rest become ``{text, reference}`` pairs whose
reference is the aligned subsequence of the original, so labels never contain words the text lacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from whorf import data as datasets
from whorf.data.labels import aligned_rule, norm
from whorf.segment import rebuild, segment

PROMPT = (
    "Compress the following tool output for an AI agent by DELETING words only. Never add, reorder, rewrite or "
    "abbreviate words. Keep every error name, number, path, flag, identifier, version and negation. "
    "Reply with the compressed text only."
)


@dataclass
class DistillConfig:
    teacher: str  # base URL, e.g. http://127.0.0.1:8000/v1
    teacher_model: str
    data: list[str]
    out: str
    max_variation: float = 0.1  # drop answers where more than this share of words is not aligned
    timeout: float = 60.0
    api_key: str | None = None
    limit: int | None = None
    retries: int = 2  # connection failures retried by httpx's transport before a row counts as failed


@dataclass
class DistillStats:
    rows: int = 0
    written: int = 0
    dropped_variation: int = 0
    failed: int = 0
    variation: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        mean = sum(self.variation) / len(self.variation) if self.variation else 0.0
        return {"rows": self.rows, "written": self.written, "dropped_for_variation": self.dropped_variation,
                "failed": self.failed, "mean_variation_rate": mean}


def align(text: str, answer: str) -> tuple[str, float]:
    """(reference rebuilt from the original's aligned words, variation rate of the answer)."""
    seg = segment(text)
    keep = aligned_rule(seg, answer, [False] * len(seg.words))
    answer_words = [norm(w) for w in answer.split()]
    matched = sum(keep)
    variation = 1 - matched / len(answer_words) if answer_words else 1.0
    return rebuild(seg, [bool(k) for k in keep]), variation


def ask(client: httpx.Client, cfg: DistillConfig, text: str) -> str:
    url = cfg.teacher.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {cfg.api_key}"} if cfg.api_key else {}
    body = {"model": cfg.teacher_model, "temperature": 0,
            "messages": [{"role": "system", "content": PROMPT}, {"role": "user", "content": text}]}
    r = client.post(url, json=body, headers=headers, timeout=cfg.timeout)
    r.raise_for_status()
    return r.json()["choices"][0]["message"]["content"]


def distill(cfg: DistillConfig, progress=None) -> DistillStats:
    rows, _ = datasets.read_all(cfg.data)
    if cfg.limit:
        rows = rows[: cfg.limit]
    stats = DistillStats()
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    transport = httpx.HTTPTransport(retries=cfg.retries)
    with httpx.Client(transport=transport) as client, out.open("w") as sink:
        for row in rows:
            stats.rows += 1
            try:
                answer = ask(client, cfg, row.text)
            except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError):
                stats.failed += 1
                continue
            reference, variation = align(row.text, answer)
            stats.variation.append(variation)
            if variation > cfg.max_variation or not reference.strip():
                stats.dropped_variation += 1
                continue
            sink.write(json.dumps({"text": row.text, "reference": reference, "domain": row.domain,
                                   "source": f"distill:{cfg.teacher_model}"}) + "\n")
            stats.written += 1
            if progress:
                progress()
    return stats

"""Records that look alike (JSON array items, NDJSON lines, table rows): which ones differ from the rest.

An item is kept when it differs from the majority: a rare value on a low-cardinality field (the one
``failed`` job among ``success``), an error word where few items have one, a non-null where most are
null, a numeric outlier (robust z-score on median and MAD), or a key set unlike the others. The first item
is always kept as the example of the rest. Everything here is plain data in, decisions out.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from statistics import median
from typing import Any, Sequence

ERROR_WORDS = (
    "error", "errors", "errored", "fail", "failed", "failing", "failure", "fatal", "critical", "exception", "denied",
    "forbidden", "timeout", "timed out", "panic", "crash", "crashed", "crashloopbackoff", "killed", "oomkilled", "oom",
    "refused", "invalid", "unhealthy", "degraded", "down", "unavailable", "evicted", "backoff", "rejected", "aborted",
    "cancelled", "canceled", "vulnerable", "high", "severe",
)
# the lookahead on the words' first letters skips most word starts at once (half the time on long outputs)
ERROR_WORD = re.compile(
    rf"\b(?=[{''.join(sorted({w[0] for w in ERROR_WORDS}))}])({'|'.join(ERROR_WORDS)})\b", re.IGNORECASE
)
MIN_ITEMS = 5
ID_LIKE = re.compile(r"(^|[._\s-])(id|pid|ppid|uid|gid|port|inode|line|lineno|index|idx|seq|no|#)$|^#$", re.IGNORECASE)
MAX_DEPTH = 3


@dataclass(frozen=True)
class Decision:
    keep: list[bool]
    reasons: dict[int, str]


def flatten(obj: Any, prefix: str = "", depth: int = 0, out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested dicts as dotted keys; lists and deeper values as short strings."""
    out = {} if out is None else out
    if isinstance(obj, dict) and depth < MAX_DEPTH:
        for k, v in obj.items():
            flatten(v, f"{prefix}.{k}" if prefix else str(k), depth + 1, out)
    elif isinstance(obj, (list, dict)):
        out[prefix] = f"<{type(obj).__name__}:{len(obj)}>"
    else:
        out[prefix] = obj
    return out


def similar(items: Sequence[dict]) -> bool:
    """Enough items, and most of them share most of their keys."""
    if len(items) < MIN_ITEMS or not all(isinstance(i, dict) and i for i in items):
        return False
    keysets = [frozenset(i) for i in items]
    common = Counter(k for ks in keysets for k in ks)
    majority = {k for k, c in common.items() if c >= len(items) / 2}
    if not majority:
        return False
    close = sum(1 for ks in keysets if len(ks & majority) / len(ks | majority) >= 0.5)
    return close >= 0.8 * len(items)


def decide(flat: Sequence[dict[str, Any]]) -> Decision:
    n = len(flat)
    reasons: dict[int, str] = {0: "first item"}
    keys = Counter(k for f in flat for k in f)
    for key, count in keys.items():
        if count <= max(1, n // 10):
            for i, f in enumerate(flat):
                if key in f:
                    reasons.setdefault(i, f"rare key {key}")
        elif count < n and n - count <= max(1, n // 10):
            for i, f in enumerate(flat):
                if key not in f:
                    reasons.setdefault(i, f"missing key {key}")
    for key in keys:
        values = [f.get(key) for f in flat]
        for i, why in _field_outliers(key, values).items():
            reasons.setdefault(i, why)
    keep = [i in reasons for i in range(n)]
    return Decision(keep, reasons)


def _field_outliers(key: str, values: list[Any]) -> dict[int, str]:
    n = len(values)
    rare = max(1, n // 10)
    out: dict[int, str] = {}
    present = [v for v in values if v is not None]
    nulls = n - len(present)
    if nulls > n / 2 and 0 < len(present) <= max(rare, n // 5):
        for i, v in enumerate(values):
            if v is not None:
                out[i] = f"{key} is set where most are null"
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)
    labels = [_label(v) for v in values]
    counts = Counter(labels)
    if not numeric and 2 <= len(counts) <= min(12, max(3, n // 4)):  # a categorical field
        for i, lab in enumerate(labels):
            if counts[lab] <= max(1, n // 20) and lab != "null":
                out.setdefault(i, f"rare {key}={_short(values[i])}")
    errs = _error_words(values)
    if 0 < sum(errs) <= max(rare, n // 5):
        for i, e in enumerate(errs):
            if e:
                out.setdefault(i, f"error word in {key}")
    nums = [(i, float(v)) for i, v in enumerate(values) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(nums) >= 5 and not ID_LIKE.search(key):
        outliers = _numeric_outliers(nums)
        # outliers are rare by definition: a field where many items stand out has no majority to differ from
        for i in outliers if len(outliers) <= max(1, n // 10) else []:
            out.setdefault(i, f"outlier {key}={_short(values[i])}")
    return out


def _numeric_outliers(nums: list[tuple[int, float]]) -> list[int]:
    if all(x >= 0 for _, x in nums):  # sizes, durations, counts: heavy-tailed, compare magnitudes
        nums = [(i, math.log1p(x)) for i, x in nums]
    xs = [x for _, x in nums]
    med = median(xs)
    mad = median(abs(x - med) for x in xs)
    if mad == 0:
        off = [i for i, x in nums if x != med]
        return off if len(off) <= max(1, len(nums) // 10) else []
    return [i for i, x in nums if abs(x - med) / (1.4826 * mad) > 6.0]


def _error_words(values: list[Any]) -> list[bool]:
    """Which values are strings with an error word in their first 500 characters: one search over all of
    them, each match mapped back to its value (a newline between two values is a word boundary)."""
    heads = [v[:500] if isinstance(v, str) else "" for v in values]
    starts, at = [], 0
    for h in heads:
        starts.append(at)
        at += len(h) + 1
    out = [False] * len(values)
    for m in ERROR_WORD.finditer("\n".join(heads)):
        out[bisect_right(starts, m.start()) - 1] = True
    return out


def _label(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return v[:80]
    if v is True or v is False:
        return "true" if v else "false"
    if type(v) is int:
        return str(v)  # what json.dumps prints for an int, without its encoder
    return json.dumps(v)


def _short(v: Any, limit: int = 40) -> str:
    s = v if isinstance(v, str) else json.dumps(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def shared(flat: Sequence[dict[str, Any]], limit: int = 6, max_chars: int = 40) -> dict[str, Any]:
    """Short values every one of these items has in common."""
    if not flat:
        return {}
    out: dict[str, Any] = {}
    for key, value in flat[0].items():
        if value is None or isinstance(value, str) and (len(value) > max_chars or value.startswith("<")):
            continue
        if all(key in f and f[key] == value for f in flat[1:]):
            out[key] = value
            if len(out) >= limit:
                break
    return out

"""What a model was built from, recorded in ``whorf.json`` so that a stale model is detectable:
the git commit (and whether the tree had uncommitted changes), the data files' sha256, and the
versions of the label-affecting code: the must-keep profile's hash, the domain router's version and the
phrase chunker's version."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from whorf import domain, phrases
from whorf.patterns import load_profile


def profile_hash(profile: str) -> str:
    """sha256 of the resolved profile (patterns and scopes after ``extends``): any change to what is
    must-keep changes it."""
    p = load_profile(profile)
    body = {"patterns": p.patterns, "scope": [list(s) for s in p.scope]}
    if p.scope_patterns or p.sentence_start:  # profiles without them hash as they always did
        body |= {"scope_patterns": dict(p.scope_patterns), "sentence_start": sorted(p.sentence_start)}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def router_version() -> int:
    """The domain router's version (``whorf.domain.ROUTER_VERSION``; 0 before it was introduced)."""
    return int(getattr(domain, "ROUTER_VERSION", 0))


def _git(*args: str) -> str | None:
    try:
        r = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, cwd=Path(__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def record(profile: str) -> dict:
    status = _git("status", "--porcelain", "--untracked-files=no", "--", "src")
    return {
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "profile": profile,
        "profile_hash": profile_hash(profile),
        "router_version": router_version(),
        "phrases_version": phrases.PHRASES_VERSION,
    }


def stale(training: dict) -> list[str]:
    """Why a model's recorded provenance differs from this checkout's (empty: current)."""
    reasons = []
    profile = training.get("profile", "default")
    if training.get("profile_hash") != profile_hash(profile):
        reasons.append(f"profile {profile!r} hash {training.get('profile_hash')} differs from HEAD's {profile_hash(profile)}")
    if training.get("router_version") != router_version():
        reasons.append(f"router version {training.get('router_version')} differs from HEAD's {router_version()}")
    if training.get("phrases_version", 0) != phrases.PHRASES_VERSION:
        reasons.append(f"phrase chunker version {training.get('phrases_version', 0)} differs from HEAD's "
                       f"{phrases.PHRASES_VERSION}")
    return reasons

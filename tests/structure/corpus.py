"""The structure corpus by shape: the real program outputs of tests/fixtures/programs (made by
bench/corpus/make_corpus.py), each with its sampled facts and the structural checks it must pass; every
module's test file runs the rows the router sends to it."""

from __future__ import annotations

import json
from pathlib import Path

from whorf import structure
from whorf.config import DEFAULT_BUDGET_TOKENS
from whorf.router import route
from whorf.structure import checks
from whorf.structure.budget import chars

PROGRAMS = Path(__file__).resolve().parents[1] / "fixtures" / "programs"


def rows(shape: str) -> list[tuple[str, str, dict]]:
    """(name, output, case) of every corpus output the router sends to ``shape``."""
    out = []
    for case_file in sorted(PROGRAMS.glob("*.json")):
        text = case_file.with_suffix(".txt").read_text()
        if route(text).shape == shape:
            out.append((case_file.stem, text, json.loads(case_file.read_text())))
    return out


def check(text: str, case: dict) -> None:
    """Under the default budget: every fact survives and every structural check of the case passes."""
    routed = route(text)
    out = structure.plan_shape(text, routed.shape, chars(DEFAULT_BUDGET_TOKENS)).render(text)
    missing = [f for f in case["facts"] if f not in out]
    assert not missing, missing
    failed = {k: v for k, v in checks.run(case["checks"], text, out).items() if v}
    assert not failed, failed

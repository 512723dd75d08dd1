"""The corpus rows the router sends to `structure/diagnostics.py` (shape `diagnostics`): facts kept, checks passed."""

import pytest

from corpus import check, rows

CASES = rows("diagnostics")


def test_the_router_sends_some_corpus_rows_here():
    assert CASES


@pytest.mark.parametrize("name,text,case", CASES, ids=[c[0] for c in CASES])
def test_corpus_row(name, text, case):
    check(text, case)


def test_a_parametrized_run_is_one_marker_whatever_the_padding():
    """pytest -v pads its lines to a column, so ``test_api_param[10]`` has one space fewer than
    ``test_api_param[9]``: still the same template. One marker covers [1]..[19] and says so, so a reader asked
    for the highest index finds 19 (a marker that broke at [10] read as "10")."""
    from corpus import PROGRAMS
    from whorf import structure

    text = (PROGRAMS / "pytest_many.txt").read_text()
    out = structure.plan(text, "diagnostics").render(text)
    assert "tests/test_api.py::test_api_param[0] PASSED" in out
    assert "19 similar lines omitted, varying 1..19" in out

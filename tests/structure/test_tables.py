"""The corpus rows the router sends to `structure/tables.py` (shape `table`): facts kept, checks passed."""

import pytest

from corpus import check, rows

CASES = rows("table")


def test_the_router_sends_some_corpus_rows_here():
    assert CASES


@pytest.mark.parametrize("name,text,case", CASES, ids=[c[0] for c in CASES])
def test_corpus_row(name, text, case):
    check(text, case)

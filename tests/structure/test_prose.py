"""The corpus rows the router sends to `structure/prose.py` (shape `prose`): facts kept, checks passed."""

import pytest

from corpus import check, rows

CASES = rows("prose")


def test_the_router_sends_some_corpus_rows_here():
    assert CASES


@pytest.mark.parametrize("name,text,case", CASES, ids=[c[0] for c in CASES])
def test_corpus_row(name, text, case):
    check(text, case)

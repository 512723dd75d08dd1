"""The corpus rows the router sends to `structure/tables.py` (shape `table`): facts kept, checks passed."""

import pytest

from corpus import PROGRAMS, check, rows
from whorf import structure

CASES = rows("table")


def test_the_router_sends_some_corpus_rows_here():
    assert CASES


@pytest.mark.parametrize("name,text,case", CASES, ids=[c[0] for c in CASES])
def test_corpus_row(name, text, case):
    check(text, case)


def test_pip_list_is_a_table_under_its_rule():
    """``pip list``: a header cell of several words ("Editable project location") over a rule of three
    dash groups, rows with two cells. The table module decides it (its rows are packages, entities); the
    model's label stays the router's ``log`` (the label the shipped models were trained with)."""
    from whorf.router import route

    text = (PROGRAMS / "pip_list.txt").read_text()
    assert route(text).shape == "table"
    plan = structure.plan_shape(text, "table", 1500)
    assert {o.unit for o in plan.omissions} == {"row"} and all(o.reason == "budget" for o in plan.omissions)

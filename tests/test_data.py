import json

from whorf.train.data import read

from conftest import FIXTURES


def test_every_format_loads_and_bad_lines_are_reported_with_line_numbers():
    rows, report = read(FIXTURES / "train_small.jsonl")
    assert report.kinds["pair"] >= 25 and report.kinds["spans"] == 6 and report.kinds["labels"] == 1
    skipped = dict(report.skipped)
    assert set(skipped) == {6, 10, 13}
    assert "JSON" in skipped[6] or "Expecting" in skipped[6] or "Unterminated" in skipped[6]
    assert "text" in skipped[10]
    assert "empty reference" in skipped[13]
    assert report.rows == len(rows) == report.lines - 3


def test_raw_and_proxy_pairs_and_unlabelled(tmp_path):
    p = tmp_path / "mixed.jsonl"
    p.write_text("\n".join(json.dumps(o) for o in [
        {"deepseek_response": "long answer", "free_response": "short"},
        {"original": "a b c", "compressed": "a c", "source": "proxy"},
        {"tool": "write_file", "output": "+ added line"},
        {"prompt": "p", "text": "dense 0x7f text"},
        {"tokens": ["a b"], "labels": [1]},
        [1, 2],
    ]) + "\n")
    rows, report = read(p)
    assert [r.kind for r in rows] == ["pair", "pair", "unlabelled", "unlabelled"]
    assert rows[0].text == "long answer" and rows[0].reference == "short"
    assert rows[2].domain == "diff"  # tool=write_file
    assert len(report.skipped) == 2


def test_held_out_split_is_stable_and_about_ten_percent():
    rows, _ = read(FIXTURES / "train_small.jsonl")
    first = [r.held_out() for r in rows]
    assert first == [r.held_out() for r in read(FIXTURES / "train_small.jsonl")[0]]

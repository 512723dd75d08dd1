import hashlib
import json
import subprocess
import sys

from whorf.data import HELD_OUT, TRAIN, VALIDATION, Row, cap_per_file, is_heretic, read, split_rows

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
    assert report.sha256 == hashlib.sha256((FIXTURES / "train_small.jsonl").read_bytes()).hexdigest()


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


def synthetic_rows(n=4000):
    return [Row(f"row number {i} of the split test", "unlabelled", file=f"f{i % 3}") for i in range(n)]


def test_split_is_ten_ten_eighty_percent_and_disjoint():
    rows = synthetic_rows()
    parts = split_rows(rows)
    shares = {name: len(part) / len(rows) for name, part in parts.items()}
    assert abs(shares[HELD_OUT] - 0.10) < 0.02 and abs(shares[VALIDATION] - 0.10) < 0.02
    assert abs(shares[TRAIN] - 0.80) < 0.03
    keys = [{r.key for r in part} for part in parts.values()]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert all(r.held_out() == (r.split() == HELD_OUT) for r in rows)  # held_out() is the same split


def test_split_depends_on_the_text_only_across_processes():
    rows = synthetic_rows(300)
    code = ("from whorf.data import Row; print(''.join(Row(f'row number {i} of the split test', 'unlabelled').split()[0] "
            "for i in range(300)))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == "".join(r.split()[0] for r in rows)
    moved = [Row(r.text, "pair", reference="x", file="another") for r in rows]
    assert [r.split() for r in moved] == [r.split() for r in rows]


def test_cap_per_file_caps_training_rows_only():
    rows = synthetic_rows(600)
    capped = cap_per_file(rows, 10)
    parts = split_rows(capped)
    assert len(parts[TRAIN]) == 30  # 10 per file, 3 files
    full = split_rows(rows)
    assert len(parts[VALIDATION]) == len(full[VALIDATION]) and len(parts[HELD_OUT]) == len(full[HELD_OUT])


def test_heretic_sets_are_detected_by_name_or_source():
    assert is_heretic("data/heretic_train.jsonl")
    assert is_heretic("x.jsonl", [Row("t", "unlabelled", source="heretic-v2")])
    assert not is_heretic("x.jsonl", [Row("t", "unlabelled", source="agent")])


def test_data_imports_neither_train_nor_eval_and_eval_does_not_import_train():
    code = ("import sys, whorf.data, whorf.data.labelled; bad = [m for m in sys.modules if m.startswith(('whorf.train', 'whorf.eval'))]; "
            "assert not bad, bad; import whorf.eval.runner, whorf.eval.report, whorf.eval.metrics; "
            "bad = [m for m in sys.modules if m.startswith('whorf.train')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)

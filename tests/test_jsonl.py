"""JSON lines: every row in gives exactly one row out, whatever the rows hold."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whorf.config import CompressOptions
from whorf.jsonl import compress_rows, compress_safely, parse_row, split_rows
from whorf.textio import json_line

LINE_BREAKERS = "\u2028\u2029\u0085\x0b\x0c\x1c\x1d\x1e\r"

words = st.sampled_from(["the", "worker", "crashed", "SIGILL", "0x7fff2038", "-Wall", "not", "ERROR", "中文",
                         "[/INST]", "é", "\\", '"', "42", *LINE_BREAKERS])
texts = st.lists(words, max_size=12).map(" ".join)
objects = st.fixed_dictionaries({"id": st.integers(0, 10**6), "text": texts})

# each strategy gives one row's bytes (no "\n" inside)
rows = st.one_of(
    objects.map(lambda o: json.dumps(o, ensure_ascii=False).encode("utf-8")),
    objects.map(lambda o: json.dumps(o).encode()),  # ASCII escapes, \u2028 included
    texts.map(lambda t: b'{"text": "lone \\ud800 ' + json.dumps(t)[1:-1].encode() + b'"}'),  # escaped lone surrogate
    st.integers(1, 4000).map(lambda n: b'{"text": "' + b"[" * n + b"]" * n + b'"}'),  # deep JSON inside the text
    st.integers(900, 4000).map(lambda n: b'{"x": ' + b"[" * n + b"]" * n + b"}"),  # deep JSON row
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),  # binary
    st.sampled_from([b"{broken", b"[1, 2]", b"42", b'"text"', b"", b"   ", b'{"text": NaN}', b'{"id": 1}',
                     b'{"output": "exit code 3"}', b'{"text": 7}', b'{"text": "crlf row"}\r', b"\xef\xbb\xbf{}"]),
)


@given(st.lists(rows, max_size=12), st.integers(1, 5), st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_every_row_in_gives_exactly_one_row_out(tiny_compressor, lines, batch, final_newline):
    data = b"".join(line + b"\n" for line in lines)
    if not final_newline and lines and lines[-1]:
        data = data[:-1]  # the last row may also end without a newline
    out = list(compress_rows(tiny_compressor, data, CompressOptions(rate=0.5), batch=batch))
    assert [r.number for r in out] == list(range(1, len(lines) + 1))
    rendered = b"".join(r.render() for r in out)
    assert rendered.count(b"\n") == len(lines)
    assert rendered.split(b"\n")[:-1] == [r.render()[:-1] for r in out]
    for row, raw in zip(out, lines):
        line = row.render()[:-1]
        if line == raw:
            continue  # passed through byte for byte
        obj = json.loads(line)  # anything rewritten is one valid JSON object ...
        assert len(line.decode("utf-8").splitlines()) == 1  # ... that no line splitter cuts apart
        assert "stats" in obj and obj.get("id") == json.loads(raw).get("id")
        assert (row.reason is None) == (obj["stats"]["passthrough"] is None)
        if row.reason and row.field:
            assert obj["compressed"] == json.loads(raw)[row.field]  # text passed through unchanged


def test_rows_split_on_newline_only():
    text = json.dumps({"text": "a\u2028b\u2029c\u0085d"}, ensure_ascii=False).encode()
    assert split_rows(text + b"\n" + text + b"\r\n") == [text, text + b"\r"]
    assert split_rows(b"") == [] and split_rows(b"\n") == [b""] and split_rows(b"a") == [b"a"]


@pytest.mark.parametrize("raw,reason", [
    (b"\xff\xfe{}", "invalid UTF-8 at byte 0"),
    (b"   ", "blank line"),
    (b"{broken", "invalid JSON"),
    (b'{"text": NaN}', "NaN is not JSON"),
    (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    (b"[1]", "not a JSON object but list"),
    (b'{"id": 1}', "no string field 'text' or 'output' or 'content'"),
])
def test_rows_that_cannot_be_compressed_say_why(raw, reason):
    row = parse_row(7, raw)
    assert row.field is None and reason in row.reason and row.number == 7


def test_an_object_without_the_field_gets_the_reason_in_its_stats():
    row = parse_row(1, b'{"id": 1, "body": "x"}', field="body")
    assert row.field == "body"
    row = parse_row(1, b'{"id": 1}')
    obj = json.loads(row.render())
    assert obj["id"] == 1 and obj["stats"]["passthrough"] == row.reason


def test_lone_surrogate_row_passes_through_and_stays_valid_json(tiny_compressor):
    data = b'{"id": 1, "text": "bad \\ud800 here"}\n{"id": 2, "text": "fine text ERROR 42"}\n'
    out = list(compress_rows(tiny_compressor, data, CompressOptions()))
    first, second = (json.loads(r.render()) for r in out)
    assert first["compressed"] == "bad \ud800 here" and "surrogates" in first["stats"]["passthrough"]
    assert second["stats"]["passthrough"] is None and "ERROR" in second["compressed"]


class FailsOn:
    """The real compressor, except that it raises on one text (as a RecursionError once did)."""

    def __init__(self, comp, poison: str):
        self.comp, self.poison = comp, poison
        self.model_id, self.config, self.runtime = comp.model_id, comp.config, comp.runtime

    def compress_batch(self, texts, options=None, queries=None):
        if any(self.poison in t for t in texts):
            raise RecursionError("maximum recursion depth exceeded")
        return self.comp.compress_batch(texts, options, queries=queries)


def test_a_row_the_compressor_fails_on_does_not_take_its_batch_with_it(tiny_compressor):
    comp = FailsOn(tiny_compressor, "POISON")
    results = compress_safely(comp, ["alpha ERROR 1", "POISON pill", "gamma WARN 3"], CompressOptions())
    assert [r.stats.passthrough is None for r in results] == [True, False, True]
    assert results[1].text == "POISON pill" and "RecursionError" in results[1].stats.passthrough


def test_invalid_options_are_errors_up_front(tiny_compressor):
    with pytest.raises(ValueError, match="batch must be at least 1"):
        next(compress_rows(tiny_compressor, b'{"text": "x"}\n', CompressOptions(), batch=0))
    with pytest.raises(ValueError, match="unknown domain"):
        next(compress_rows(tiny_compressor, b'{"text": "x"}\n', CompressOptions(domain="spreadsheet")))


def test_json_line_escapes_what_breaks_lines_and_keeps_the_rest_readable():
    obj = {"t": "a\u2028b\u2029c\u0085d \ud800 \udcff 中文 \x00"}
    line = json_line(obj)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == obj and len(line.decode().splitlines()) == 1
    assert "中文".encode() in line
    with pytest.raises(ValueError):
        json_line({"x": float("nan")})

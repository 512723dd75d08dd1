import json

import pytest
from hypothesis import HealthCheck, given, settings

from whorf.phrases import MAX_PHRASE
from hypothesis import strategies as st

from whorf import CompressOptions, Compressor
from whorf.patterns import load_profile
from whorf.segment import segment

from conftest import TRACEBACK

WORDS = ["the", "process", "SIGILL", "0x7fff2038", "--verbose", "/usr/lib/x.so", "not", "ValueError:", "exit", "42",
         "was", "killed", "timeout=30", "3.28.33", "and", "字", "é"]


@given(st.lists(st.lists(st.sampled_from(WORDS), max_size=12), min_size=1, max_size=8), st.floats(0.05, 1.0))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_must_keep_word_survives_with_the_override(tiny_compressor, lines, rate):
    text = "\n".join(" ".join(line) for line in lines)
    seg = segment(text)
    must = load_profile(tiny_compressor.config.profile).must_keep(seg.words, text)
    for result in (tiny_compressor.compress(text), tiny_compressor.compress(text, rate=rate)):
        kept = [w.text for w in result.words if w.kept]
        assert all(w.kept for w, m in zip(result.words, must) if m)
        assert result.text.split() == kept
        if result.words:
            assert result.stats.must_keep_survival == 1.0


def test_rate_mode_hits_the_rate_without_override(tiny_compressor):
    text = " ".join(f"w{i}" for i in range(200))
    for rate in (0.1, 0.33, 0.5, 0.9):
        r = tiny_compressor.compress(text, rate=rate, override=False)
        assert abs(r.stats.words_kept - rate * 200) <= MAX_PHRASE / 2  # whole phrases: within half of one


def test_result_carries_decisions_scores_and_stats(tiny_compressor):
    r = tiny_compressor.compress(TRACEBACK)
    assert len(r.words) == len(TRACEBACK.split())
    assert all(0.0 <= w.score <= 1.0 for w in r.words)
    s = r.stats
    assert s.words == len(r.words) and s.words_kept == sum(w.kept for w in r.words)
    assert s.domain == "diagnostics" and s.model == "tiny" and s.runtime == "torch" and s.ms > 0
    assert 0 < s.tokens_out <= s.tokens_in
    json.dumps(r.to_dict())


def test_batch_equals_single(tiny_compressor):
    texts = [TRACEBACK, "a b c", "diff --git a/x b/x\n+added line"]
    batch = tiny_compressor.compress_batch(texts)
    for text, b in zip(texts, batch):
        assert tiny_compressor.compress(text).text == b.text


@pytest.mark.parametrize("raw,reason", [
    ("", "empty"), ("   \n\t\n", "empty"), (b"\x00\x01\x02binary\xff", "binary"), (b"caf\xe9 au lait", "invalid UTF-8"),
])
def test_bad_inputs_pass_through_unchanged_with_a_reason(tiny_compressor, raw, reason):
    r = tiny_compressor.compress(raw)
    assert reason in r.stats.passthrough
    original = raw if isinstance(raw, str) else raw.decode("utf-8", "surrogateescape")
    assert r.text == original
    if isinstance(raw, bytes):
        assert r.text.encode("utf-8", "surrogateescape") == raw


def test_oversized_input_passes_through_whole(tiny_compressor):
    big = "x" * 1000 + " y" * 20
    r = tiny_compressor.compress(big, max_chars=500)
    assert r.text == big and "max_chars" in r.stats.passthrough


def test_twenty_megabytes_pass_through_untruncated(tiny_compressor):
    big = ("INFO request served in 2ms\n" * 800_000)[: 20 * 1024 * 1024]
    r = tiny_compressor.compress(big)
    assert r.text == big and r.stats.passthrough


def test_one_megabyte_line_is_handled(tiny_compressor):
    line = "data:" + "QUJD" * 262_144 + " end"
    r = tiny_compressor.compress(line, min_prose_words=0)  # the word model reads it (no gain floor)
    assert r.stats.passthrough is None
    assert set(r.text.split()) <= set(line.split())


def test_cjk_text(tiny_compressor):
    text = "错误：无法连接到数据库 服务器 10.0.0.1:5432 超时\n请检查 配置文件 /etc/app.yaml"
    r = tiny_compressor.compress(text)
    assert "10.0.0.1:5432" in r.text and "/etc/app.yaml" in r.text
    assert set(r.text.split()) <= set(text.split())


def test_unknown_domain_and_bad_options_are_clear_errors(tiny_compressor):
    with pytest.raises(ValueError, match="unknown domain"):
        tiny_compressor.compress("a b", domain="spreadsheet")
    with pytest.raises(ValueError, match="rate"):
        CompressOptions(rate=1.5)


def test_missing_model_path_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="not found"):
        Compressor("/no/such/model")


def test_domain_prefix_reaches_the_model(tiny_compressor):
    a = tiny_compressor.compress(TRACEBACK, domain="log", structure=False)  # every word to the model
    b = tiny_compressor.compress(TRACEBACK, domain="json", structure=False)
    assert [w.score for w in a.words] != [w.score for w in b.words]


def test_every_word_decision_carries_its_input_line(tiny_compressor):
    prose = "alpha beta\ngamma delta\n\nepsilon zeta eta"
    r = tiny_compressor.compress(prose, store=False)
    assert [(w.text, w.line) for w in r.words] == [("alpha", 0), ("beta", 0), ("gamma", 1), ("delta", 1),
                                                   ("epsilon", 3), ("zeta", 3), ("eta", 3)]
    log = "".join(f"2026-01-02 12:00:{i:02d} INFO worker {i} started\n" for i in range(40)) + "done now\n"
    r = tiny_compressor.compress(log, store=False)
    segmented = [(w.text, w.line) for w in r.words]
    assert segmented[-2:] == [("done", 40), ("now", 40)] and len(r.words) == len(log.split())


def test_a_word_too_long_to_scan_whole_is_kept(tiny_compressor):
    """JSON nested too deep to parse is one 6 kB word with a fact in its middle, beyond what the
    must-keep patterns search: it must not be dropped (with the override on)."""
    text = "[" * 3000 + '"ECONNREFUSED"' + "]" * 3000
    r = tiny_compressor.compress(text, rate=0.1, store=False)
    assert "ECONNREFUSED" in r.text and r.words[0].must_keep

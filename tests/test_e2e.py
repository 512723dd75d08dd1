"""End to end with the shipped model and the real CLI."""

import os
import subprocess
import sys

import pytest

from whorf import Compressor
from whorf.patterns import load_profile
from whorf.registry import shipped
from whorf.segment import segment

from conftest import FIXTURES, SHARED_DATA, requires_shared_data

pytestmark = pytest.mark.skipif(shipped("whorf-mini") is None, reason="whorf-mini is not shipped in this checkout")
EXAMPLES = FIXTURES.parent.parent / "src" / "whorf" / "examples"


@pytest.fixture(scope="module")
def mini():
    return Compressor()


def test_default_model_is_trained_whorf_mini(mini):
    assert mini.config.name == "whorf-mini" and mini.config.trained


@pytest.mark.parametrize("name,most", [("traceback.txt", 2 / 3), ("app.log", 0.95)])
def test_cli_keeps_every_must_keep_word_and_drops_filler(name, most):
    """The traceback loses at least a third of its words. In the log nearly every word is a timestamp,
    status, path or duration (must-keep), so only the filler around them can go."""
    text = (EXAMPLES / name).read_text()
    r = subprocess.run([sys.executable, "-m", "whorf", "compress", str(EXAMPLES / name), "--stats"],
                       capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    seg = segment(text)
    must = [w.text for w, m in zip(seg.words, load_profile("default").must_keep(seg.words, text)) if m]
    out_words = out.split()
    assert all(w in out_words for w in must)
    assert len(out_words) <= most * len(seg.words)
    assert b"UNTRAINED" not in r.stderr


def test_model_alone_keeps_the_words_that_name_the_crash(mini):
    text = (EXAMPLES / "traceback.txt").read_text()
    r = mini.compress(text, override=False)
    for word in ("SIGILL", "0x7fff2038", "EXC_BAD_INSTRUCTION.", "subprocess.CalledProcessError:", "132."):
        assert word in r.text.split(), word


@requires_shared_data()
def test_heretic_rows_with_the_shipped_model(mini):
    from whorf.eval.metrics import exact_keep_pct
    from whorf.train.data import read

    rows, _ = read(SHARED_DATA / "heretic_train.jsonl")
    results = mini.compress_batch([r.text for r in rows])
    assert all(exact_keep_pct(r.text, res.text) == 1.0 for r, res in zip(rows, results))
    assert sum(res.stats.keep_rate for res in results) / len(results) < 0.8

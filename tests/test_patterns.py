import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whorf.patterns import Profile, load_profile
from whorf.segment import segment

SEED_REGEX = re.compile(r"""
    \d+(\.\d+)?          # numbers: 42, 3.14, 0x7fff
  | [A-Z_]{2,}           # ALL_CAPS: SIGILL, HTTP, EOF
  | [a-z_]+\.[a-z_]+    # dotted.paths: libsystem_kernel.dylib
  | /[a-z/._-]{2,}      # unix paths: /usr/lib/python3
  | \.[a-z]{2,4}\b      # extensions: .py, .so, .json
  | --?[a-z][\w-]*      # flags: --verbose, -n
  | \b[A-Z][a-z]+[A-Z]\w*  # CamelCase: EXC_BAD_INSTRUCTION
""", re.VERBOSE)


def flags(profile: str, text: str) -> dict[str, bool]:
    seg = segment(text)
    return {w.text: m for w, m in zip(seg.words, load_profile(profile).must_keep(seg.words, text))}


def pieces(alphabet: list[str]):
    return st.lists(st.sampled_from(alphabet), max_size=60).map("".join)


@given(pieces(list("aZ_09.-/x: =\n") + ["Err", "not"]))
@settings(max_examples=300)
def test_seed_profile_is_the_seed_regex_applied_per_word(text):
    seg = segment(text)
    got = load_profile("seed").must_keep(seg.words, text)
    assert got == [bool(SEED_REGEX.search(w.text)) for w in seg.words]


@given(pieces(list("aAf09.-/x:= \n,") + ["0x", "CVE-", "not", "://"]))
@settings(max_examples=300)
def test_default_profile_covers_the_seed_and_matches_per_word(text):
    seg = segment(text)
    default = load_profile("default")
    got = default.must_keep(seg.words, text)
    seed = load_profile("seed").must_keep(seg.words, text)
    assert all(d or not s for d, s in zip(got, seed))
    unscoped = Profile(default.name, default.patterns)
    assert unscoped.must_keep(seg.words, text) == [bool(default.regex.search(w.text)) for w in seg.words]
    assert all(g or not u for g, u in zip(got, unscoped.must_keep(seg.words, text)))  # scope only adds


def test_seed_examples():
    f = flags("seed", "SIGILL at libsystem_kernel.dylib code 42 --verbose /usr/lib/python3 the process ran")
    assert f["SIGILL"] and f["libsystem_kernel.dylib"] and f["42"] and f["--verbose"] and f["/usr/lib/python3"]
    assert not f["the"] and not f["process"] and not f["ran"]


@pytest.mark.parametrize("word", [
    "0x7fff2038", "3.28.33", "timeout=123", "10.0.4.17:5432", "https://example.com/a?b=1",
    "3f2b7c9e-1a4d-4e8b-9c0f-2d6e5a7b8c91", "e4f5a6b9c", "CVE-2024-3094", "CWE-79", "E0308", "ENOENT",
    "not", "Never", "no", "must", "only", "unless", "ValueError:", "src/db/conn.py",
])
def test_default_profile_keeps_what_the_seed_missed(word):
    assert flags("default", f"the {word} here")[word]


def test_default_profile_leaves_filler():
    f = flags("default", "the process was then started again by the scheduler")
    assert not any(f.values())


def test_custom_profile_file_extends(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"name": "mine", "extends": "seed", "patterns": {"ticket": r"\bJIRA\b"}}))
    profile = load_profile(str(path))
    assert "ticket" in profile.patterns and "number" in profile.patterns


def test_unknown_and_invalid_profiles_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown must-keep profile"):
        load_profile("nope")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"patterns": {"broken": "("}}))
    with pytest.raises(ValueError, match="invalid"):
        load_profile(str(bad))


def test_negation_scope_keeps_the_words_a_negation_negates():
    text = "The worker will not be restarted automatically\nnot\nplease check"
    f = load_profile("default").must_keep(segment(text).words, text)
    assert f == [False, False, False, True, True, True, False, True, False, False]  # scope stops at the line end
    assert load_profile("seed").must_keep(segment(text).words, text) == [False] * 10

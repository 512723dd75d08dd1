import json
import time
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
    # the whole clause of "not", up to the line's end; "check" opens its sentence after "please": an imperative
    assert f == [True] * 7 + [True, False, True]
    assert load_profile("seed").must_keep(segment(text).words, text) == [False] * 10


# The default profile's patterns before they were guarded for linear time (and before flag_any_case):
# the guarded profile must flag exactly the same words.
UNGUARDED_DEFAULT = {
    "dotted_path": r"[a-z_]+\.[a-z_]+",
    "key_value": r"\b[\w.-]+=[^\s,;]+",
    "url": r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S+",
    "any_path": r"(?:\.{0,2}/)?[\w.-]+(/[\w.-]+)+|[A-Za-z]:\\\S+",
    "directive": r"(?i:(?<![a-z0-9])(not|never|no|none|must|only|unless|cannot|can['’]t|don['’]t|doesn['’]t|won['’]t|isn['’]t|aren['’]t|wasn['’]t|shouldn['’]t|mustn['’]t|without)(?![a-z0-9]))",
}
HOSTILE = list("aZf09._-/:=+,;\\é ") + ["://", "0x", "CVE-", "not", "Error", "-W", "..", "\n"]


@given(pieces(HOSTILE))
@settings(max_examples=500)
def test_guarded_default_flags_the_same_words_as_the_unguarded_patterns(text):
    default = load_profile("default")
    reference = Profile("reference", {**default.patterns, **UNGUARDED_DEFAULT})
    reference = Profile("reference", {k: v for k, v in reference.patterns.items() if k != "flag_any_case"})
    guarded = Profile("guarded", {k: v for k, v in default.patterns.items() if k != "flag_any_case"})
    words = segment(text).words
    assert guarded.must_keep(words, text) == reference.must_keep(words, text)
    for name, pattern in UNGUARDED_DEFAULT.items():  # pattern by pattern too
        one, ref = Profile("one", {name: default.patterns[name]}), Profile("ref", {name: pattern})
        assert one.must_keep(words, text) == ref.must_keep(words, text), name


@pytest.mark.parametrize("flag", ["-Wall", "-I", "-X", "--Foo", "-DNDEBUG", "-O2", "(-I)", "--verbose"])
def test_default_profile_keeps_flags_of_any_case(flag):
    assert flags("default", f"pass {flag} here")[flag]


@pytest.mark.parametrize("word", ["Wi-Fi", "Jean-Paul", "-", "--"])
def test_capitalised_words_with_hyphens_are_not_flags(word):
    assert not flags("default", f"the {word} here")[word]


def test_seed_profile_is_exactly_the_seed_pattern_set():
    assert "|".join(f"(?:{p})" for p in load_profile("seed").patterns.values()) == "|".join(
        f"(?:{p})" for p in [r"\d+(\.\d+)?", r"[A-Z_]{2,}", r"[a-z_]+\.[a-z_]+", r"/[a-z/._-]{2,}",
                             r"\.[a-z]{2,4}\b", r"--?[a-z][\w-]*", r"\b[A-Z][a-z]+[A-Z]\w*"])


def test_rate_mode_keeps_capitalised_flags(tiny_compressor):
    text = "when you build it use the option -Wall and also pass -I so that it does not fail"
    out = tiny_compressor.compress(text, rate=0.1).text.split()
    assert "-Wall" in out and "-I" in out


@pytest.mark.parametrize("profile", ["default", "seed"])
def test_a_one_megabyte_unbroken_line_is_matched_in_under_a_second(profile):
    # the run that took over two minutes when each pattern scanned the whole run from every position
    text = "start " + "ab_cd" * (1 << 18) + "x:y" * 1000 + " end"
    words = segment(text).words
    started = time.perf_counter()
    load_profile(profile).must_keep(words, text)
    load_profile(profile).matches(text)
    assert time.perf_counter() - started < 1.0


def test_long_words_are_searched_in_overlapping_windows():
    # a match straddling two windows is found once; one deep inside a long word is found
    text = "x" * 200 + "ERROR" + "x" * 300 + " " + "q" * 1000 + "SIGSEGV" + "q" * 1000 + " plain"
    words = segment(text).words
    assert load_profile("seed").must_keep(words, text) == [True, True, False]
    assert load_profile("seed").matches(text) == ["ERROR", "SIGSEGV"]
    # longer than MAX_WORD: only its ends are searched, so the word is kept whatever they hold
    assert load_profile("seed").must_keep(segment("z" * 4096).words, "z" * 4096) == [False]
    assert load_profile("seed").must_keep(segment("z" * 5000).words, "z" * 5000) == [True]


def test_words_up_to_the_scan_bound_match_exactly_as_a_whole_text_search():
    text = " ".join(["ab.cd" * 50, "a" * 250 + "/b", "x" * 256, "NOTE" + "y" * 252])
    seed = load_profile("seed")
    assert seed.matches(text) == [m.group() for m in seed.regex.finditer(text) if m.group()]
    assert seed.must_keep(segment(text).words, text) == [bool(SEED_REGEX.search(w)) for w in text.split()]


def test_the_default_profile_keeps_negated_conditioned_and_imperative_clauses_whole():
    from whorf.segment import segment

    profile = load_profile("default")
    cases = {
        "Please do not delete the production database under any circumstances, even if the migration fails.":
            ["not delete the production database under any circumstances,", "even if the migration fails."],
        "If the health check fails three times in a row, roll back to the previous container image and page the on-call engineer.":
            ["If the health check fails three times in a row, roll back to the previous container image"],
    }
    for text, phrases in cases.items():
        seg = segment(text)
        kept = " ".join(w.text for w, m in zip(seg.words, profile.must_keep(seg.words, text)) if m)
        assert all(p in kept for p in phrases), kept
    assert profile.matches("if the migration fails, run the backup") == []  # scopes, not facts
    text = "Run the migration on staging first. A dry run is cheap."
    seg = segment(text)
    kept = [w.text for w, m in zip(seg.words, profile.must_keep(seg.words, text)) if m]
    assert kept == ["Run", "the", "migration", "on", "staging", "first."]  # "run" mid-sentence is no imperative


def test_the_gain_floor_passes_short_prose_whole_and_says_why(tiny_compressor):
    text = "If the health check fails three times in a row, roll back to the previous container image."
    floored = tiny_compressor.compress(text, store=False)  # on by default: 40 words
    assert floored.text == text and "gain floor" in floored.stats.passthrough
    assert tiny_compressor.compress(text, store=False, min_prose_words=0).stats.passthrough is None

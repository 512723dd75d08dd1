"""Phrases: the chink-and-chunk chunker, per-phrase decisions, and the property that no phrase is cut."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whorf.decide import decide
from whorf.phrases import FUNCTION_WORDS, MAX_PHRASE, chunk, pooled, spans, whole
from whorf.segment import segment


def phrased(text: str) -> list[str]:
    seg = segment(text)
    return [" ".join(w.text for w in seg.words[a:b]) for a, b in spans(chunk(seg.words))]


def test_an_object_stays_with_its_article_and_a_verb_with_its_negation():
    assert phrased("Please do not delete the production database under any circumstances, even if the migration fails.") == [
        "Please", "do not delete", "the production database", "under any circumstances,", "even if the migration fails."]
    assert phrased("Do NOT run rm -rf on the build directory") == ["Do NOT run rm -rf", "on the build directory"]


def test_phrases_end_at_clause_punctuation_lines_and_the_length_cap():
    assert phrased("retry later; the queue is full") == ["retry later;", "the queue", "is full"]
    assert phrased("the first line\nthe second line") == ["the first line", "the second line"]
    long = " ".join(f"word{i}" for i in range(MAX_PHRASE * 2 + 1))
    assert [len(p.split()) for p in phrased(long)] == [MAX_PHRASE, MAX_PHRASE, 1]
    assert phrased("") == [] and chunk([]).tolist() == []


def test_pooling_and_widening_work_per_phrase():
    ids = np.array([0, 0, 1, 1, 1, 2])
    assert np.allclose(pooled(np.array([1.0, 0.0, 0.3, 0.3, 0.6, 0.9]), ids), [0.5, 0.5, 0.4, 0.4, 0.4, 0.9])
    assert whole(np.array([0, 0, 0, 1, 0, 0]), ids).tolist() == [False, False, True, True, True, False]


def test_a_must_keep_word_keeps_its_whole_phrase_and_rate_mode_takes_whole_phrases():
    seg = segment("do not delete the production database under any circumstances")
    ids = chunk(seg.words)
    scores = np.array([0.9, 0.9, 0.9, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1], dtype=np.float32)
    must = [False] * 9
    assert decide(scores, must, threshold=0.5, phrases=ids).tolist() == [True] * 3 + [False] * 6
    must[5] = True  # "database"
    assert decide(scores, must, threshold=0.5, phrases=ids).tolist() == [True] * 6 + [False] * 3
    # 4 of 9 words: the best phrase (3 words); a second whole one would overshoot more than it helps
    assert decide(scores, [False] * 9, rate=0.4, phrases=ids).tolist() == [True] * 3 + [False] * 6
    assert decide(scores, [False] * 9, rate=0.6, phrases=ids).tolist() == [True] * 6 + [False] * 3  # 5: six is nearer


WORDS = sorted(FUNCTION_WORDS)[:40] + ["database", "deploy", "server", "the", "rollback", "/var/log/app.log",
                                       "v1.2.3", "fails,", "retry.", "E1234", "config", "NOT", "quickly;", "run"]
SENTENCE = st.lists(st.sampled_from(WORDS), min_size=1, max_size=60).map(" ".join)
TEXT = st.lists(SENTENCE, min_size=1, max_size=4).map("\n".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, rate=st.one_of(st.none(), st.floats(0.05, 1.0)), override=st.booleans())
def test_no_prose_word_is_cut_inside_a_phrase(tiny_compressor, text, rate, override):
    """Property: through the compressor, every phrase the chunker marks is kept whole or dropped whole."""
    for structure in (False, True):
        res = tiny_compressor.compress(text, rate=rate, override=override, structure=structure, domain="prose",
                                       min_prose_words=0, min_saving_tokens=0, store=False)
        if structure:  # the prose stage splits the text into pieces; each is chunked on its own
            by_line: dict[int, list] = {}
            for w in res.words:
                by_line.setdefault(w.line, []).append(w)
            groups = [g for ws in by_line.values() for g in _phrase_groups(ws)]
        else:
            groups = _phrase_groups(res.words)
        for group in groups:
            assert len({w.kept for w in group}) == 1, [(w.text, w.kept) for w in group]


def _phrase_groups(words) -> list[list]:
    ids = chunk(words)
    return [list(words[a:b]) for a, b in spans(ids)]


def test_the_saving_floor_keeps_prose_whose_deletions_would_save_little(tiny_compressor):
    text = ("The service restarts at midnight every day and the cache is warmed from the previous snapshot, "
            "so the first requests after the restart are served from disk while the new index is being built "
            "in the background by the worker pool.")
    cut = tiny_compressor.compress(text, store=False, min_prose_words=0, min_saving_tokens=0)
    assert cut.text != text, "the tiny model drops something here: the floor has something to undo"
    saved = cut.stats.tokens_in - cut.stats.tokens_out
    floored = tiny_compressor.compress(text, store=False, min_prose_words=0, min_saving_tokens=saved + 1)
    assert floored.text == text and "min_saving_tokens" in floored.stats.passthrough
    assert tiny_compressor.compress(text, store=False, min_prose_words=0, min_saving_tokens=max(1, saved - 1)).text == cut.text


def test_the_floor_options_are_checked_when_built():
    from whorf.config import CompressOptions

    for bad in (-1, 2.5, "40", None, True):
        with pytest.raises(ValueError, match="min_saving_tokens"):
            CompressOptions(min_saving_tokens=bad)
        with pytest.raises(ValueError, match="min_prose_words"):
            CompressOptions(min_prose_words=bad)


def test_clause_ends_are_one_definition_for_chunks_and_scopes():
    from whorf.patterns import load_profile

    profile = load_profile("default")
    cases = {  # the scope stops at the sentence's end whatever closes it; "e.g." and a curly apostrophe are no end
        "**Do not delete the production database.** The quarterly report is due on Friday.": 6,
        "Don\u2019t delete the production database. The report is due.": 5,
        "_Never_ delete the production database. The report is due.": 5,
        "Do not restart the core services e.g. the payment gateway. The report is due.": 10,
        "The deploy job aborts the whole release if the migration step fails. The cache is warm.": 12,
    }
    for text, n in cases.items():
        seg = segment(text)
        assert profile.must_keep(seg.words, text) == [True] * n + [False] * (len(seg.words) - n), text


# the narrowed condition scopes (the retrain that ships them in the default profile is pending)
NARROW_CONDITION = r"(?i:(?<![a-z0-9])(?=[eiouw])(if|when|whenever|unless|otherwise)(?![a-z0-9])|(?<=\bin )case\b)"
SUBORDINATE = r"(?i:(?<![a-z0-9])(?=[abeouw])(before|after|until|except|while|once)(?![a-z0-9]))"


def test_a_time_word_opens_a_condition_scope_only_before_a_clause():
    """"after the migration fails" is a condition and keeps its clause; "after lunch" is a time, and
    its words are left to the model (negations keep their whole clause as before)."""
    import json
    import tempfile

    from whorf.patterns import load_profile
    from whorf.segment import segment

    narrowed = {"name": "narrowed", "extends": "default", "scope": {"subordinate": "clause"},
                "scope_patterns": {"condition": NARROW_CONDITION, "subordinate": SUBORDINATE},
                "needs_clause": ["subordinate"]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(narrowed, f)
    profile = load_profile(f.name)

    def forced(text):
        seg = segment(text)
        return [w.text for w, m in zip(seg.words, profile.must_keep(seg.words, text)) if m]

    assert forced("After lunch we talked about the plan.") == []
    assert forced("We agreed after a long discussion.") == []
    assert forced("Roll back after the migration fails.") == ["Roll", "back", "after", "the", "migration", "fails."]
    assert forced("Run the tests before deploying to prod.")[-4:] == ["before", "deploying", "to", "prod."]
    assert "restarts," in forced("Wait while the server restarts, then stop.")
    assert forced("If the migration fails, roll back.") == ["If", "the", "migration", "fails,", "roll", "back."]
    assert "delete" in forced("After lunch, do not delete the database.")

from whorf.segment import segment
from whorf.data.labels import aligned_rule, from_spans, label, seed_rule


def test_seed_rule_is_lowercase_membership_plus_seed_patterns():
    text = "The worker hit SIGILL and the process died at step 42"
    ref = "worker hit the wall"
    keep = seed_rule(segment(text), ref)
    # The/the are kept because "the" is in the reference (the known weakness); SIGILL and 42 by pattern
    assert keep == [1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 1]


def test_aligned_rule_matches_in_order_within_a_window():
    text = "the cat sat on the mat and the dog sat too"
    seg = segment(text)
    must = [False] * len(seg.words)
    assert aligned_rule(seg, "cat the dog", must) == [0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0]
    # out-of-order reference words are not matched backwards
    assert aligned_rule(seg, "dog cat", must) == [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]
    # the window bounds how far a match may jump
    assert aligned_rule(seg, "too", must, window=3) == [0] * 11


def test_aligned_rule_adds_must_keep_words_and_ignores_punctuation():
    seg = segment("Error: exit code 137, see /var/log/app.log for details")
    labels = label(seg, reference="error 137", rule="aligned")
    # per phrase: Error: | exit code 137, | see /var/log/app.log | for details; a must-keep word keeps its phrase
    assert labels.keep == [1, 1, 1, 1, 1, 1, 0, 0]
    assert aligned_rule(seg, "error 137", labels.must) == [1, 0, 0, 1, 0, 1, 0, 0]  # the words alone
    assert labels.must == [True, False, False, True, False, True, False, False]  # Error: is an error name


def test_span_labels_keep_overlapping_words():
    text = "run --timeout /opt/run.sh now"
    seg = segment(text)
    spans = [{"start": 4, "end": 13}, {"start": 18, "end": 20}]
    assert from_spans(seg, spans, [False] * 4) == [0, 1, 1, 0]


def test_word_labels_are_taken_as_given():
    seg = segment("exit code 137 was returned")
    assert label(seg, word_labels=[1, 1, 1, 0, 0]).keep == [1, 1, 1, 0, 0]


def test_reference_sharing_no_word_gives_only_must_keep():
    seg = segment("unrelated words with port 8080")
    assert label(seg, reference="zebra quantum").keep == [0, 0, 1, 1, 1]  # the phrase "with port 8080"


def test_reference_labels_are_whole_per_phrase_by_majority():
    seg = segment("the old server crashed twice on the night of the deploy")
    # phrases: the old server crashed twice | on the night | of the deploy
    labels = label(seg, reference="old server crashed night")
    assert labels.keep == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]  # 4 of 5 kept; 1 of 3 is no majority


def test_labels_follow_the_profile_scopes_a_negation_keeps_its_object():
    seg = segment("Please do not delete the production database under any circumstances.")
    keep = label(seg, reference="Please delete").keep  # a reference that drops the negation's object
    kept = " ".join(w.text for w, k in zip(seg.words, keep) if k)
    assert "do not delete the production database under any circumstances." in kept

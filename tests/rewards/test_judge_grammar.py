"""The judge's answer grammar in process, on hand-written answers: the errors a bad grammar gets (full text), the
recorded describe() text, a user's pattern matched per line and case-insensitively, values outside the grammar
(unknown verdicts, overflowing numbers, an optional value group that matched nothing) read as NaN, never a crash."""

from __future__ import annotations

import math

import pytest

from videobench.rewards.judge_grammar import Grammar, GrammarError


def _nan(values: list[float]) -> bool:
    return all(isinstance(v, float) and math.isnan(v) for v in values)


@pytest.mark.parametrize("mode, labels, message", [
    ("ranking", ("vq",), "mode='ranking': choose scores or pairwise"),
    ("scores", (), "a judge needs one non-empty label per dimension"),
    ("scores", ("vq", "  "), "a judge needs one non-empty label per dimension"),  # one blank label among good ones
])
def test_bad_grammars_are_refused_with_the_reason(mode, labels, message):
    with pytest.raises(GrammarError) as err:
        Grammar(mode, labels)
    assert str(err.value) == message


def test_describe_is_the_text_recorded_in_results():
    assert Grammar("scores", ("visual quality", "TA")).describe() == (
        "one line per dimension, LABEL: VALUE with VALUE a number; labels ['visual quality', 'TA']")
    assert Grammar("pairwise", ("overall",)).describe() == (
        "one line per dimension, LABEL: VALUE with VALUE A | B | tie (first-shown video = A); labels ['overall']")
    assert Grammar("scores", ("vq",), pattern=r"<{label}>(?P<value>\d)").describe() == r"pattern <{label}>(?P<value>\d)"


def test_a_users_pattern_is_matched_per_line_and_ignoring_case():
    g = Grammar("scores", ("VQ",), pattern=r"^{label} => (?P<value>\d+)$")
    assert g.parse("Scores follow.\nvq => 4\nthat is all") == [4.0]  # ^/$ per line, label case ignored


def test_an_optional_value_group_that_matched_nothing_is_unparseable():
    """It used to end the judge's run in an AttributeError (None.strip())."""
    g = Grammar("scores", ("vq",), pattern=r"{label}:[ ]*(?P<value>\d+)?")
    assert _nan(g.parse("vq: good"))
    assert g.parse("vq: 4") == [4.0]
    assert _nan(g.parse("vq: 4\nvq: good"))  # one line with a value, one without: contradictory


def test_pairwise_values_outside_the_verdicts_are_nan_and_a_video_prefix_is_dropped():
    g = Grammar("pairwise", ("overall",), pattern=r"^{label}: (?P<value>.+?)\.?$")
    assert g.parse("Overall: Video B") == [-1.0]
    assert g.parse("overall: video first.") == [1.0]
    assert g.parse("overall: tie") == [0.0]
    assert _nan(g.parse("overall: maybe"))


def test_numbers_that_are_not_finite_are_nan():
    assert _nan(Grammar("scores", ("vq",)).parse("vq: " + "9" * 400))  # float() of 400 nines overflows to inf
    any_word = Grammar("scores", ("vq",), pattern=r"{label}: (?P<value>\S+)")
    assert _nan(any_word.parse("vq: inf")) and _nan(any_word.parse("vq: nan"))
    assert any_word.parse("vq: 2.5") == [2.5]


def test_no_answer_is_nan_for_every_label():
    assert _nan(Grammar("scores", ("vq", "ta")).parse(None))  # a model that returned nothing
    assert _nan(Grammar("pairwise", ("overall",)).parse(""))

"""The measures (docs/measures.md, R7) as pure functions: known answers and edge cases.

* ``wilson_interval`` — the Wilson (1927) score interval, checked against the
  worked examples of Newcombe (1998), "Two-sided confidence intervals for the
  single proportion: comparison of seven methods", Statistics in Medicine 17,
  Table II, method 3 (score interval without continuity correction).
* ``sus_score`` — Brooke's System Usability Scale (1996): odd items contribute
  (answer − 1), even items (5 − answer), the sum × 2.5.
* ``indispensability`` — the share "very disappointed", its interval and the
  verdict against the threshold; "insufficient evidence" never shows a number.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from governance.rules.evidence import adoption, indispensability, meets_target, sus_score, wilson_interval

PURE = settings(max_examples=150, deadline=None)


# ------------------------------------------------------------------ Wilson
@pytest.mark.parametrize(("successes", "n", "low", "high"), [
    (81, 263, 0.2553, 0.3662),   # Newcombe 1998, example (a)
    (15, 148, 0.0624, 0.1605),   # Newcombe 1998, example (b)
    (0, 20, 0.0000, 0.1611),     # Newcombe 1998, example (c)
    (1, 29, 0.0061, 0.1718),     # Newcombe 1998, example (d)
    (0, 10, 0.0000, 0.2775),     # 0 of n: upper bound z²/(n + z²)
    (10, 10, 0.7225, 1.0000),    # n of n: the mirror image
    (12, 40, 0.1807, 0.4543),    # the "altitude" pilot: 12 of 40 very disappointed
])
def test_wilson_interval_matches_published_values_to_four_decimals(successes, n, low, high):
    got_low, got_high = wilson_interval(successes, n)
    assert round(got_low, 4) == pytest.approx(low, abs=1e-9)
    assert round(got_high, 4) == pytest.approx(high, abs=1e-9)


def test_zero_of_n_has_the_closed_form_upper_bound_and_a_lower_bound_of_exactly_zero():
    z = 1.959963984540054
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(z * z / (10 + z * z), abs=1e-12)


def test_n_of_n_has_an_upper_bound_of_exactly_one():
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert low == pytest.approx(1 - wilson_interval(0, 10)[1], abs=1e-12)


def test_a_wider_confidence_gives_a_wider_interval():
    low90, high90 = wilson_interval(12, 40, confidence=0.90)
    low95, high95 = wilson_interval(12, 40)
    low99, high99 = wilson_interval(12, 40, confidence=0.99)
    assert low99 < low95 < low90 < 0.3 < high90 < high95 < high99


@pytest.mark.parametrize(("successes", "n"), [
    (0, 0),        # n = 0: no respondents, no interval
    (1, 0),
    (3, -5),
    (11, 10),      # more successes than respondents
    (-1, 10),
    (2.0, 10),     # not whole numbers
    (2, 10.0),
    (True, 10),
    ("3", 10),
])
def test_wilson_interval_refuses_impossible_counts(successes, n):
    with pytest.raises(ValueError):
        wilson_interval(successes, n)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1])
def test_wilson_interval_refuses_a_confidence_outside_zero_and_one(confidence):
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(3, 10, confidence=confidence)


@PURE
@given(n=st.integers(min_value=1, max_value=5000), data=st.data())
def test_wilson_interval_always_brackets_the_observed_share(n, data):
    successes = data.draw(st.integers(min_value=0, max_value=n))
    low, high = wilson_interval(successes, n)
    p = successes / n
    assert 0.0 <= low <= p <= high <= 1.0
    # The interval is symmetric in successes and failures.
    mirror_low, mirror_high = wilson_interval(n - successes, n)
    assert low == pytest.approx(1 - mirror_high, abs=1e-12)
    assert high == pytest.approx(1 - mirror_low, abs=1e-12)


# --------------------------------------------------------------------- SUS
def test_sus_all_neutral_answers_score_50():
    assert sus_score([3] * 10) == 50.0


def test_sus_best_possible_answers_score_100():
    assert sus_score([5, 1] * 5) == 100.0


def test_sus_worst_possible_answers_score_0():
    assert sus_score([1, 5] * 5) == 0.0


def test_sus_worked_example_agree_with_positive_disagree_with_negative_scores_75():
    # Odd (positive) items answered 4 → 3 each; even (negative) items answered 2 → 3 each.
    # (15 + 15) × 2.5 = 75.
    assert sus_score([4, 2, 4, 2, 4, 2, 4, 2, 4, 2]) == 75.0


def test_sus_worked_example_with_mixed_answers():
    # Odd items 4,4,5,4,4 → 3+3+4+3+3 = 16; even items 2,1,2,2,2 → 3+4+3+3+3 = 16; 32 × 2.5 = 80.
    assert sus_score([4, 2, 4, 1, 5, 2, 4, 2, 4, 2]) == 80.0


@PURE
@given(st.lists(st.integers(min_value=1, max_value=5), min_size=10, max_size=10))
def test_sus_agrees_with_the_alternative_published_formula(answers):
    # The other common statement of Brooke's scoring: X = Σ odd − 5, Y = 25 − Σ even, (X + Y) × 2.5.
    x = sum(answers[0::2]) - 5
    y = 25 - sum(answers[1::2])
    score = sus_score(answers)
    assert score == (x + y) * 2.5
    assert 0.0 <= score <= 100.0
    assert score * 2 == int(score * 2)  # SUS moves in steps of 2.5


@pytest.mark.parametrize("answers", [
    [3] * 9,                      # 9 answers
    [3] * 11,                     # 11 answers
    [],
    [0, 3, 3, 3, 3, 3, 3, 3, 3, 3],   # 0 is off the scale
    [3, 3, 3, 3, 3, 3, 3, 3, 3, 6],   # 6 is off the scale
    [3, 3, 3.5, 3, 3, 3, 3, 3, 3, 3],  # not a whole number
    [3.0] * 10,                   # floats are not answers on a 1–5 scale
    [True] * 10,                  # booleans are not answers
    ["3"] * 10,                   # text is not an answer
    [3, None, 3, 3, 3, 3, 3, 3, 3, 3],  # one item skipped
    "3333333333",
])
def test_sus_refuses_anything_but_ten_whole_answers_from_1_to_5(answers):
    with pytest.raises(ValueError):
        sus_score(answers)


def test_sus_refusal_names_the_offending_item():
    with pytest.raises(ValueError, match="item 4"):
        sus_score([3, 3, 3, 6, 3, 3, 3, 3, 3, 3])
    with pytest.raises(ValueError, match="exactly 10"):
        sus_score([3] * 9)


# --------------------------------------------------------- indispensability
def test_indispensability_passes_at_or_above_the_threshold_with_enough_responses():
    result = indispensability(12, 30, threshold=0.40, minimum_n=30)
    assert result.status == "pass" and result.passed
    assert result.score == pytest.approx(0.40)
    assert (result.low, result.high) == wilson_interval(12, 30)
    assert result.n == 30
    assert "meets" in result.text and "n=30" in result.text


def test_indispensability_fails_below_the_threshold_and_still_reports_score_interval_and_n():
    result = indispensability(12, 40, threshold=0.40, minimum_n=30)
    assert result.status == "fail" and not result.passed
    assert result.score == pytest.approx(0.30)
    assert round(result.low, 4) == 0.1807 and round(result.high, 4) == 0.4543
    assert result.text.startswith("30 % very disappointed") and "below the 40 % threshold" in result.text


@pytest.mark.parametrize(("very", "n"), [(29, 29), (5, 29), (0, 1), (1, 1)])
def test_indispensability_below_the_minimum_is_insufficient_and_never_exposes_a_score(very, n):
    result = indispensability(very, n, threshold=0.40, minimum_n=30)
    assert result.status == "insufficient"
    assert not result.passed
    assert result.score is None and result.low is None and result.high is None
    assert result.text == f"insufficient evidence ({n} of 30 responses needed)"
    assert "%" not in result.text
    exported = result.as_dict()
    assert exported["score"] is None and exported["low"] is None and exported["high"] is None
    assert exported["passed"] is False


def test_indispensability_with_no_responses_is_none():
    result = indispensability(0, 0, threshold=0.40, minimum_n=30)
    assert result.status == "none"
    assert result.score is None and not result.passed
    assert result.text == "no responses yet"


@PURE
@given(n=st.integers(min_value=0, max_value=200), minimum_n=st.integers(min_value=5, max_value=60),
       threshold=st.sampled_from([0.25, 0.4, 0.5, 0.8, 1.0]), data=st.data())
def test_indispensability_never_passes_with_fewer_responses_than_the_minimum(n, minimum_n, threshold, data):
    very = data.draw(st.integers(min_value=0, max_value=n))
    result = indispensability(very, n, threshold=threshold, minimum_n=minimum_n)
    if n < minimum_n:
        assert not result.passed and result.score is None
    else:
        assert result.passed == (very / n >= threshold)
        assert result.low <= result.score <= result.high


# ------------------------------------------------------------ other measures
def test_adoption_is_active_over_eligible_and_none_without_eligible_users():
    assert adoption(30, 40) == 0.75
    assert adoption(0, 40) == 0.0
    assert adoption(0, 0) is None


def test_meets_target_respects_the_direction():
    assert meets_target(95, 95, "higher_is_better") and not meets_target(94.9, 95, "higher_is_better")
    assert meets_target(60, 60, "lower_is_better") and not meets_target(61, 60, "lower_is_better")

"""The self-check's model signals: plain numbers and strings in, numbers out."""

from __future__ import annotations

import math

import pytest

from model.selfcheck import signals


@pytest.mark.parametrize(
    ("log_probs", "expected"),
    [
        ([-0.1, -0.3], (-0.2, -0.3)),
        ([0.0], (0.0, 0.0)),
        ([], (0.0, 0.0)),
        ([-1.0, float("-inf"), -3.0], (-2.0, -3.0)),  # non-finite steps are padding
    ],
)
def test_log_prob_stats(log_probs, expected):
    assert signals.log_prob_stats(log_probs) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (r"\frac{a}{b}", r"\frac { a } { b }", True),
        (r"a\,b", "ab", True),
        (r"a\quad b", "a b", True),
        ("x^2", "x^{2}", True),
        ("x^2", "x_2", False),
        (r"\alpha", r"\beta", False),
    ],
)
def test_same_reading_ignores_only_spacing(a, b, same):
    assert signals.same_reading(a, b) is same


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("abc", "abc", 0.0),
        ("abc", "abd", 1 / 3),
        ("", "", 0.0),
        ("ab", "", 1.0),
        ("kitten", "sitting", 3 / 7),
    ],
)
def test_token_distance(a, b, distance):
    assert signals.token_distance(list(a), list(b)) == pytest.approx(distance)


@pytest.mark.parametrize(
    ("scores", "texts", "gap", "agree", "second"),
    [
        # The second beam only adds a thin space: the same reading, so the gap is to b.
        ([-0.1, -0.2, -0.9], ["a+b", r"a+\,b", "a-b"], 0.8, 0.5, 1 / 3),
        ([-0.1, -0.15], ["x^2", "x_2"], 0.05, 0.0, 1 / 5),  # x ^ { 2 }: 1 of 5
        ([-0.1], ["x"], signals.NO_GAP, 1.0, 0.0),  # one beam: nothing disagrees
        ([-0.1, -0.3], ["x", "x"], signals.NO_GAP, 1.0, 0.0),
    ],
)
def test_beam_signals(scores, texts, gap, agree, second):
    found = signals.beam_signals(scores, texts)
    assert found["beam_gap"] == pytest.approx(gap)
    assert found["beam_agree"] == pytest.approx(agree)
    assert found["beam2_distance"] == pytest.approx(second)


@pytest.mark.parametrize(
    ("frames", "reading"),
    [
        ([0, 7, 7, 0, 7, 9, 9, 0], [7, 7, 9]),  # a blank separates a repeated symbol
        ([7, 7, 7], [7]),
        ([0, 0], []),
        ([0, 2, 300, 300, 3], [300]),  # ids below first_symbol_id were never targets
    ],
)
def test_ctc_greedy(frames, reading):
    assert signals.ctc_greedy(frames, blank=0, first_symbol_id=4) == reading


@pytest.mark.parametrize(
    ("greedy", "chosen", "log_prob", "distance", "per_token"),
    [
        ([5, 6], [5, 6], -1.0, 0.0, -0.5),
        ([5], [5, 6], -4.0, 0.5, -2.0),
        ([5], [5, 6], None, 0.5, -10.0),  # the head cannot align it at all
        ([5], [5], -math.inf, 0.0, -10.0),
        ([], [5], -100.0, 1.0, -10.0),  # clipped
    ],
)
def test_ctc_signals(greedy, chosen, log_prob, distance, per_token):
    found = signals.ctc_signals(greedy, chosen, log_prob)
    assert found == pytest.approx({"ctc_distance": distance, "ctc_per_token": per_token})


def test_ctc_symbols_drops_special_ids():
    assert signals.ctc_symbols([2, 300, 1, 301], first_symbol_id=260) == [300, 301]

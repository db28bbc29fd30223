"""Joint CTC/attention rescoring: the pure parts, table-driven, and CTC on made-up frames."""

import math

import pytest
import torch

from model.ctc_rescoring import (
    CtcRescoring,
    best_of_groups,
    combined_scores,
    ctc_log_likelihoods,
    generated_length,
    symbol_ids,
)

INF = float("inf")


@pytest.mark.parametrize(
    ("attention", "ctc", "lengths", "weight", "expected"),
    [
        # weight 0: beam search's own scores
        ([-0.1, -0.2], [-50.0, -1.0], [10, 10], 0.0, [-0.1, -0.2]),
        # CTC per token, times the weight, added to the per-token attention score
        ([-0.1, -0.2], [-20.0, -10.0], [10, 10], 0.5, [-1.1, -0.7]),
        ([-0.1, -0.1], [-10.0, -10.0], [10, 20], 1.0, [-1.1, -0.6]),
        # a zero length (empty output) counts as one token, not a division by zero
        ([-0.3], [-2.0], [0], 1.0, [-2.3]),
        # CTC cannot align one candidate: no opinion on this image, attention stands
        ([-0.1, -0.2], [-INF, -1.0], [300, 10], 0.5, [-0.1, -0.2]),
    ],
)
def test_combined_scores(attention, ctc, lengths, weight, expected):
    assert combined_scores(attention, ctc, lengths, weight) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("scores", "group", "expected"),
    [
        ([-1.0, -0.5, -2.0], 3, [1]),
        ([-1.0, -0.5, -2.0, -0.1, -0.3, -0.2], 3, [1, 3]),  # one pick per image
        ([-1.0, -1.0, -1.0], 3, [0]),  # ties go to beam search's higher rank
        ([-1.0], 1, [0]),
    ],
)
def test_best_of_groups(scores, group, expected):
    assert best_of_groups(scores, group) == expected


@pytest.mark.parametrize(("scores", "group"), [([-1.0, -2.0], 3), ([-1.0], 0)])
def test_best_of_groups_refuses_ragged_groups(scores, group):
    with pytest.raises(ValueError, match="groups"):
        best_of_groups(scores, group)


@pytest.mark.parametrize(
    ("sequence", "first", "symbols", "length"),
    [
        ([2, 300, 301, 1, 0, 0], 260, [300, 301], 3),  # start, 2 symbols, EOS, padding
        ([2, 300, 17, 301, 1], 260, [300, 301], 4),  # a byte fall-back is no CTC target
        ([2, 1, 0], 260, [], 1),  # empty output: EOS only
    ],
)
def test_symbol_ids_and_generated_length(sequence, first, symbols, length):
    assert symbol_ids(sequence, first) == symbols
    assert generated_length(sequence, pad_id=0) == length


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (None, None),
        ({}, CtcRescoring(0.5, 4)),
        ({"weight": 0.3, "first_symbol_id": 260}, CtcRescoring(0.3, 260)),
        ({"weight": 0}, CtcRescoring(0.0, 4)),
    ],
)
def test_hint_parses(hint, expected):
    assert CtcRescoring.from_hint(hint) == expected


@pytest.mark.parametrize(
    ("hint", "message"),
    [
        ([0.5], "must be an object"),
        ({"weight": -1}, ">= 0"),
        ({"weight": float("nan")}, ">= 0"),
        ({"wieght": 0.5}, "unknown"),
        ({"weight": "heavy"}, "could not convert"),
    ],
)
def test_bad_hints_say_what_is_wrong(hint, message):
    with pytest.raises(ValueError, match=message):
        CtcRescoring.from_hint(hint)


def frames(*columns: int, vocab: int = 5, blank: int = 0):
    """(frames, vocab) log-probabilities: each frame sure of one id (``blank`` between)."""
    probs = torch.full((len(columns), vocab), 0.01)
    for frame, token in enumerate(columns):
        probs[frame, token] = 1.0
    return (probs / probs.sum(-1, keepdim=True)).log()


def test_ctc_prefers_the_candidate_the_frames_show():
    log_probs = frames(0, 3, 0, 4, 0)  # the image reads "3 4"
    right, wrong, short = ctc_log_likelihoods(log_probs, [[3, 4], [3, 2], [3]], blank_id=0)
    assert right > wrong and right > short


def test_ctc_of_a_candidate_too_long_for_the_frames_is_minus_infinity():
    (too_long,) = ctc_log_likelihoods(frames(0, 3, 0), [[3, 4, 3, 4]], blank_id=0)
    assert too_long == -math.inf


def test_ctc_of_no_candidates_is_empty():
    assert ctc_log_likelihoods(frames(0, 3), [], blank_id=0) == []

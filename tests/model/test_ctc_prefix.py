"""CTC prefix scoring (model/ctc_prefix.py) against torch's CTC loss and brute force."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from ctc_reference import ctc_log_likelihood

from model.ctc_prefix import NO_SYMBOL, Hypotheses, PrefixScorer, extend, inked_frames

BLANK = 0


def ctc_log_likelihoods(log_probs, candidates, blank_id):
    return [ctc_log_likelihood(log_probs, c, blank_id) for c in candidates]


def random_frames(frames: int, vocab: int, seed: int = 0, sharpness: float = 1.0):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(frames, vocab, generator=generator, dtype=torch.float64)
    return (sharpness * logits).log_softmax(-1)


def walk(log_probs, symbols):
    """Follow ``symbols`` one at a time: the one hypothesis reached, the summed increments."""
    state, total = Hypotheses.empty(log_probs[:, BLANK][None]), 0.0
    for symbol in symbols:
        r_n, r_b, prefix = extend_one(state, log_probs, [symbol])
        total += float(prefix[0] - state.score[0])
        state = Hypotheses(r_n, r_b, prefix, torch.tensor([symbol]))
    return state, total


def extend_one(state, log_probs, symbols):
    """``extend`` for one hypothesis: (K, frames), (K, frames), (K,)."""
    r_n, r_b, prefix = extend(state.r_n, state.r_b, state.last, torch.tensor([symbols]),
                              log_probs[:, symbols].t()[None], log_probs[:, BLANK][None])
    return r_n[0], r_b[0], prefix[0]


def collapse(alignment):
    out, previous = [], None
    for token in alignment:
        if token != previous and token != BLANK:
            out.append(token)
        previous = token
    return out


@pytest.mark.parametrize("symbols", [[1], [1, 2], [1, 1], [2, 2, 3], [1, 2, 1, 2], [4, 4, 4]])
def test_increments_and_end_add_up_to_the_ctc_likelihood(symbols):
    log_probs = random_frames(9, 5)
    state, total = walk(log_probs, symbols)
    (expected,) = ctc_log_likelihoods(log_probs, [symbols], blank_id=BLANK)
    assert total + float(state.full()[0] - state.score[0]) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("prefix", [[1], [2, 1], [1, 1], [2, 2, 2]])
def test_prefix_score_is_the_probability_of_all_readings_that_begin_with_it(prefix):
    frames, vocab = 6, 3
    log_probs = random_frames(frames, vocab, seed=1)
    paths = [
        float(log_probs[range(frames), list(a)].sum())
        for a in itertools.product(range(vocab), repeat=frames)
        if collapse(a)[: len(prefix)] == prefix
    ]
    state, _ = walk(log_probs, prefix)
    expected = torch.logsumexp(torch.tensor(paths, dtype=torch.float64), 0) if paths else -math.inf
    assert float(state.score[0]) == pytest.approx(float(expected), abs=1e-9)


def test_hypotheses_extend_together_as_they_would_alone():
    log_probs = random_frames(8, 5, seed=3)
    hypotheses = [walk(log_probs, symbols)[0] for symbols in ([], [2], [2, 3], [4, 4])]
    batch = Hypotheses(*(torch.cat(part) for part in zip(
        *((h.r_n, h.r_b, h.score, h.last) for h in hypotheses), strict=True)))
    candidates = torch.tensor([[1, 2, 3], [2, 3, 4], [3, 1, 3], [4, 2, 1]])  # repeats too
    r_n, r_b, prefix = extend(batch.r_n, batch.r_b, batch.last, candidates,
                              log_probs[:, candidates].permute(1, 2, 0),
                              log_probs[:, BLANK].expand(4, -1))
    for row, hypothesis in enumerate(hypotheses):
        alone = extend_one(hypothesis, log_probs, candidates[row].tolist())
        for together, by_itself in zip((r_n[row], r_b[row], prefix[row]), alone, strict=True):
            assert torch.allclose(together, by_itself, atol=1e-12)
    assert batch.last.tolist() == [NO_SYMBOL, 2, 3, 4]


def test_unlikely_symbols_over_many_frames_keep_their_precision():
    # 300 frames that all but rule symbol 3 out: the cumulative sums reach -15,000.
    log_probs = random_frames(300, 6, seed=2, sharpness=12.0)
    symbols = [3, 1, 3, 5, 2]
    state, total = walk(log_probs, symbols)
    (expected,) = ctc_log_likelihoods(log_probs, [symbols], blank_id=BLANK)
    assert total + float(state.full()[0] - state.score[0]) == pytest.approx(expected, rel=1e-9)


def sure_frames(*columns: int, vocab: int = 6):
    """Frames each sure of one id: the image reads the non-blank ones in order."""
    probs = torch.full((len(columns), vocab), 0.01)
    for frame, token in enumerate(columns):
        probs[frame, token] = 1.0
    return (probs / probs.sum(-1, keepdim=True)).log()


def scorer_for(log_probs, beams=1, first_symbol_id=2, pre_beam=6):
    # ids: 0 blank/pad, 1 end-of-sequence; symbols from 2.
    return PrefixScorer(log_probs[None], beams, weight=1.0, blank=BLANK, eos=1,
                        first_symbol_id=first_symbol_id, pre_beam=pre_beam)


def test_the_scorer_favours_what_the_frames_show_and_ends_when_they_end():
    scorer = scorer_for(sure_frames(0, 3, 0, 4, 0))
    flat = torch.tensor([[-math.inf, 0, 0, 0, 0, 0]])  # the decoder never writes padding
    first = scorer(torch.tensor([[1]]), flat)[0]
    assert first[3] == first.max() and first[3] > first[4]
    second = scorer(torch.tensor([[1, 3]]), flat)[0]
    assert second[4] == second.max() and second[4] > second[1]  # "3" alone is too short
    third = scorer(torch.tensor([[1, 3, 4]]), flat)[0]
    assert third[1] == third.max()  # nothing left to read: end here


def test_only_the_pre_beam_is_scored_and_the_rest_is_ruled_out():
    scorer = scorer_for(sure_frames(0, 3, 0), pre_beam=2)
    attention = torch.tensor([[-9.0, -9.0, -1.0, -2.0, -9.0, -9.0]])
    scores = scorer(torch.tensor([[1]]), attention)[0]
    assert torch.isfinite(scores).tolist() == [False, False, True, True, False, False]


def test_tokens_ctc_never_read_leave_the_state_alone():
    # id 2 is below first_symbol_id (a byte fall-back): free, and the state carries on.
    scorer = scorer_for(sure_frames(0, 3, 0, 4, 0), first_symbol_id=3)
    flat = torch.zeros(1, 6)
    first = scorer(torch.tensor([[1]]), flat)[0]
    assert first[2] == 0.0
    after_fallback = scorer(torch.tensor([[1, 2]]), flat)[0]
    fresh = scorer_for(sure_frames(0, 3, 0, 4, 0), first_symbol_id=3)
    assert torch.equal(after_fallback, fresh(torch.tensor([[1]]), flat)[0])


def test_reordered_beams_find_their_own_state():
    log_probs = sure_frames(0, 3, 0, 4, 0, 5, 0)
    scorer = scorer_for(log_probs, beams=2)
    flat = torch.zeros(2, 6)
    scorer(torch.tensor([[1], [1]]), flat)
    swapped = scorer(torch.tensor([[1, 4], [1, 3]]), flat)
    for row, prefix in enumerate(([1, 4], [1, 3])):
        alone = scorer_for(log_probs, beams=1)
        alone(torch.tensor([[1]]), flat[:1])
        assert torch.equal(swapped[row], alone(torch.tensor([prefix]), flat[:1])[0])


def test_each_image_s_beams_read_that_image_s_frames():
    # Two images of two beams each: rows 0-1 read "3", rows 2-3 read "4".
    log_probs = torch.stack([sure_frames(0, 3, 0), sure_frames(0, 4, 0)])
    scorer = PrefixScorer(log_probs, beams=2, weight=1.0, blank=BLANK, eos=1,
                          first_symbol_id=2, pre_beam=6)
    flat = torch.tensor([[-math.inf, 0, 0, 0, 0, 0]]).expand(4, -1)
    best = scorer(torch.tensor([[1]] * 4), flat).argmax(-1)
    assert best.tolist() == [3, 3, 4, 4]


def test_rows_the_last_step_did_not_offer_are_ruled_out():
    scorer = scorer_for(sure_frames(0, 3, 0), pre_beam=2)
    attention = torch.tensor([[-9.0, -9.0, -1.0, -2.0, -9.0, -9.0]])
    scorer(torch.tensor([[1]]), attention)
    unknown = scorer(torch.tensor([[1, 5]]), torch.zeros(1, 6))[0]  # 5 was not offered
    assert not torch.isfinite(unknown).any()


def padded(frames, blank_prob, before: int, after: int):
    """``frames`` with ``before``/``after`` frames of blank probability ``blank_prob``."""
    vocab = frames.shape[-1]
    rest = math.log((1 - blank_prob) / (vocab - 1))
    pad = torch.full((1, vocab), rest, dtype=frames.dtype)
    pad[0, BLANK] = math.log(blank_prob)
    return torch.cat([pad.expand(before, -1), frames, pad.expand(after, -1)])


@pytest.mark.parametrize(("blank_prob", "before", "after", "kept"), [
    (1 - 1e-7, 5, 3, 8),   # surely blank at both ends: only the inked frames stay
    (1 - 1e-7, 0, 0, 8),   # nothing to drop
    (0.99, 5, 3, 16),      # merely likely blank: kept, it may hide a symbol
])
def test_surely_blank_frames_at_the_ends_are_dropped(blank_prob, before, after, kept):
    inked = random_frames(8, 5, seed=3)
    frames = padded(inked, blank_prob, before, after)[None]
    assert inked_frames(frames, BLANK).shape[1] == kept


def test_an_all_blank_image_keeps_one_frame():
    frames = padded(random_frames(0, 5), 1 - 1e-7, 4, 0)[None]
    assert inked_frames(frames, BLANK).shape == (1, 1, 5)


def test_dropping_sure_blanks_leaves_the_scores_as_they_were():
    inked = random_frames(6, 5, seed=4, sharpness=3.0)
    both = [scorer_for(frames) for frames in (inked, padded(inked, 1 - 1e-9, 7, 5))]
    rows, flat = torch.tensor([[1]]), torch.zeros(1, 5)
    first, second = (scorer(rows, flat)[0] for scorer in both)
    assert torch.allclose(first, second, atol=1e-6)

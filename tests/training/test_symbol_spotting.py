"""The symbol-spotting loss: which tokens a formula has, scored at the best position."""

from __future__ import annotations

import pytest
import torch

from training.symbol_spotting import (
    PRIOR_LOGIT,
    symbol_logits,
    symbol_loss,
    symbol_targets,
)


@pytest.mark.parametrize(
    "labels, first, present",
    [
        ([[5, 6, 1, -100]], 4, [[5, 6]]),  # EOS (1) and the loss mask are not symbols
        ([[7, 7, 7]], 4, [[7]]),  # a repeated symbol is one positive
        ([[2, 3, 0]], 4, [[]]),  # only specials: nothing to spot
        ([[4, 9], [9, -100]], 5, [[9], [9]]),  # ids below first_symbol_id are skipped
    ],
)
def test_symbol_targets(labels, first, present):
    targets = symbol_targets(torch.tensor(labels), vocab_size=10, first_symbol_id=first)
    assert [row.nonzero().flatten().tolist() for row in targets] == present


def test_logits_take_the_best_matching_position():
    embeddings = torch.eye(3)
    states = torch.tensor([[[0.0, 2.0, 0.0], [0.0, 0.0, 5.0]]])
    logits = symbol_logits(states, embeddings)
    assert logits.tolist() == [[PRIOR_LOGIT, 2.0 + PRIOR_LOGIT, 5.0 + PRIOR_LOGIT]]


def test_loss_is_low_when_the_encoder_shows_exactly_the_formulas_symbols():
    embeddings = torch.eye(6) * 10
    labels = torch.tensor([[4, 5, 1]])
    seen = torch.tensor([[[0, 0, 0, 0, 1.0, 0], [0, 0, 0, 0, 0, 1.0]]])
    wrong = torch.tensor([[[0, 0, 1.0, 0, 0, 0], [0, 0, 0, 1.0, 0, 0]]])
    good = symbol_loss(seen, embeddings, labels, first_symbol_id=2)
    bad = symbol_loss(wrong, embeddings, labels, first_symbol_id=2)
    assert good < 0.1 < 2.0 < bad


def test_loss_gradients_reach_the_encoder_states():
    states = torch.zeros(2, 4, 8, requires_grad=True)
    embeddings = torch.randn(12, 8)
    symbol_loss(states, embeddings, torch.tensor([[6, 7], [8, -100]]), 4).backward()
    assert states.grad.abs().sum() > 0

"""Encoder losses: CTC over the encoder's columns, and symbol spotting."""

from __future__ import annotations

import pytest
import torch

from model.ctc_head import canvas_of, columns_first  # shared by the loss and decoding
from training.trainer.encoder_losses import (
    PRIOR_LOGIT,
    ctc_loss,
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


@pytest.mark.parametrize(("rows", "cols", "height", "width"), [
    (2, 3, 32, 48), (1, 4, 16, 64), (4, 32, 64, 512), (3, 3, 224, 224),
])
def test_columns_first_reads_each_column_top_to_bottom(rows, cols, height, width):
    # token (r, c) stored row by row carries the value 100 r + c
    grid = torch.tensor([[100.0 * r + c for r in range(rows) for c in range(cols)]])
    ordered = columns_first(grid.reshape(1, rows * cols, 1), height, width).flatten()
    assert ordered.tolist() == [100.0 * r + c for c in range(cols) for r in range(rows)]


def test_columns_first_drops_a_leading_class_token():
    grid = torch.tensor([[-1.0, 0.0, 1.0, 100.0, 101.0]])  # class token, then 2x2 row by row
    ordered = columns_first(grid.reshape(1, 5, 1), 32, 32, class_token=True).flatten()
    assert ordered.tolist() == [0.0, 100.0, 1.0, 101.0]


def test_columns_first_refuses_tokens_that_do_not_tile_the_canvas():
    with pytest.raises(ValueError, match="tile"):
        columns_first(torch.zeros(1, 10, 4), 64, 64)


@pytest.mark.parametrize(("size", "expected"), [(224, (224, 224)), ([64, 512], (64, 512))])
def test_canvas_of(size, expected):
    class Config:
        image_size = size

    assert canvas_of(Config) == expected


def _frames(ids, vocab=8, strength=10.0):
    """Encoder frames whose best-matching token (identity embeddings) is ``ids[t]``."""
    return (torch.nn.functional.one_hot(torch.tensor([ids]), vocab) * strength).float()


def test_ctc_is_low_when_the_frames_read_the_formula_in_order():
    embeddings = torch.eye(8)
    labels = torch.tensor([[5, 6, 7, 1]])  # EOS (1) is not a CTC target
    in_order = ctc_loss(_frames([5, 0, 6, 0, 7, 0]), embeddings, labels, first_symbol_id=4)
    reversed_ = ctc_loss(_frames([7, 0, 6, 0, 5, 0]), embeddings, labels, first_symbol_id=4)
    assert in_order < 0.1 < 5.0 < reversed_


def test_ctc_skips_formulas_longer_than_the_frames():
    labels = torch.tensor([[4, 5, 6, 7, 4, 5, 6, 7]])
    loss = ctc_loss(_frames([4, 5, 6]), torch.eye(8), labels, first_symbol_id=4)
    assert loss.item() == 0.0  # zero_infinity: no usable alignment, no gradient

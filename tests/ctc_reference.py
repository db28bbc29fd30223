"""The CTC reference the prefix scorer is checked against: torch's own CTC loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def ctc_log_likelihood(log_probs: torch.Tensor, symbols, blank: int) -> float:
    """log P_ctc(symbols | frames) for one image's (frames, vocab) log-probabilities."""
    symbols = list(symbols)
    loss = F.ctc_loss(log_probs[:, None], torch.tensor([symbols]), [log_probs.shape[0]],
                      [len(symbols)], blank=blank, reduction="sum")
    return -float(loss)

"""Joint CTC/attention rescoring of beam candidates, as in hybrid speech recognition.

The bundled model was trained with a CTC loss on its encoder
(``training/encoder_losses.py``): the encoder's tokens, read column by column from left to
right and scored against the decoder's tied output embeddings, must emit the formula's
tokens in order. It adds no parameters, so at inference it is a second, independent
opinion on each candidate the beam search returns, one that looks only at the pixels and
not at the decoder's language model. The chosen candidate maximises

    attention score (log-probability per token) + weight x CTC log-likelihood per token.

Measured on 300 im2latex test images that are not the 500 the README reports (images
500-799 of the seed-0 shuffle), 3 beams: weight 0.5 took edit distance from 0.180 to
0.176 and exact match from 0.107 to 0.120 (BLEU 0.697 to 0.699); 0.3-1.0 gave about the
same. A model folder opts in through ``snaptex.json``::

    "ctc_rescoring": {"weight": 0.5, "first_symbol_id": 260}

(ids below ``first_symbol_id`` are special tokens and byte fall-backs, which the CTC loss
never saw as targets). Standard library and torch only; never imports Qt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from model.options import check_ctc_weight

HINT_KEY = "ctc_rescoring"
DEFAULT_WEIGHT = 0.5
CLASS_TOKEN_ENCODERS = ("dpt", "vit")  # encoders whose first output token is a class token


@dataclass(frozen=True)
class CtcRescoring:
    """What a model folder says about rescoring: how much CTC counts, which ids it read."""

    weight: float = DEFAULT_WEIGHT
    first_symbol_id: int = 4

    @classmethod
    def from_hint(cls, data: Any) -> CtcRescoring | None:
        """The folder's ``ctc_rescoring`` hint, or None when it has none."""
        if data is None:
            return None
        if not isinstance(data, dict):
            raise ValueError(f"snaptex.json: {HINT_KEY} must be an object, not {data!r}")
        unknown = set(data) - {"weight", "first_symbol_id"}
        if unknown:
            raise ValueError(f"snaptex.json: unknown {HINT_KEY} keys {sorted(unknown)}")
        defaults = cls()
        rescoring = cls(weight=float(data.get("weight", defaults.weight)),
                        first_symbol_id=int(data.get("first_symbol_id",
                                                     defaults.first_symbol_id)))
        check_ctc_weight(rescoring.weight, f"snaptex.json: {HINT_KEY}.weight")
        return rescoring


def canvas_of(encoder_config) -> tuple[int, int]:
    """(height, width) of the encoder's input canvas."""
    size = encoder_config.image_size
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def columns_first(encoder_states, canvas_height: int, canvas_width: int,
                  class_token: bool = False):
    """Re-order (batch, rows x cols, width) tokens, stored row by row, column by column.

    ``class_token``: the first token is a ViT/DPT class token, which has no column and
    is dropped.
    """
    if class_token:
        encoder_states = encoder_states[:, 1:]
    batch, tokens, width = encoder_states.shape
    rows = round((tokens * canvas_height / canvas_width) ** 0.5)
    if rows < 1 or tokens % rows:
        raise ValueError(f"{tokens} encoder tokens do not tile a {canvas_height}x"
                         f"{canvas_width} canvas")
    grid = encoder_states.reshape(batch, rows, tokens // rows, width)
    return grid.transpose(1, 2).reshape(batch, tokens, width)


def reading_order_states(model, encoder_states):
    """The encoder's output as the CTC loss read it: projected, columns first."""
    if hasattr(model, "enc_to_dec_proj"):  # encoder narrower or wider than the decoder
        encoder_states = model.enc_to_dec_proj(encoder_states)
    height, width = canvas_of(model.config.encoder)
    class_token = model.config.encoder.model_type in CLASS_TOKEN_ENCODERS
    return columns_first(encoder_states, height, width, class_token)


def frame_log_probs(states, token_embeddings):
    """(batch, frames, vocab) log-probabilities of each encoder frame over the vocabulary."""
    return (states.float() @ token_embeddings.float().t()).log_softmax(-1)


def ctc_log_likelihoods(log_probs, candidates: Sequence[Sequence[int]],
                        blank_id: int) -> list[float]:
    """log P_ctc(candidate | frames) for each candidate against one image's frames.

    ``log_probs``: (frames, vocab). A candidate CTC cannot align (longer than the frames
    allow) gets ``-inf``.
    """
    import torch
    import torch.nn.functional as F

    if not candidates:
        return []
    frames = log_probs.shape[0]
    expanded = log_probs[:, None, :].expand(frames, len(candidates), log_probs.shape[1])
    targets = torch.tensor([t for c in candidates for t in c], dtype=torch.long)
    lengths = torch.tensor([len(c) for c in candidates], dtype=torch.long)
    losses = F.ctc_loss(expanded, targets, torch.full((len(candidates),), frames),
                        lengths, blank=blank_id, reduction="none", zero_infinity=False)
    return [-float(loss) for loss in losses]


def symbol_ids(sequence: Sequence[int], first_symbol_id: int) -> list[int]:
    """The ids the CTC loss was trained on: no specials, padding or byte fall-backs."""
    return [int(t) for t in sequence if int(t) >= first_symbol_id]


def combined_scores(attention: Sequence[float], ctc: Sequence[float],
                    lengths: Sequence[int], weight: float) -> list[float]:
    """Attention score per token + weight x CTC log-likelihood per token.

    If CTC cannot score one candidate (``-inf``: too long to align), it has no opinion on
    this image and the attention scores stand, so a long formula is never traded for a
    shorter one CTC happens to fit.
    """
    if weight == 0 or not all(math.isfinite(c) for c in ctc):
        return list(attention)
    return [a + weight * c / max(1, n) for a, c, n in zip(attention, ctc, lengths, strict=True)]


def best_of_groups(scores: Sequence[float], group: int) -> list[int]:
    """Index of the best score in each consecutive group of ``group`` (one per image).

    Ties go to the earlier candidate, the one beam search ranked higher.
    """
    if group < 1 or len(scores) % group:
        raise ValueError(f"{len(scores)} scores do not split into groups of {group}")
    best = []
    for start in range(0, len(scores), group):
        window = scores[start:start + group]
        best.append(start + max(range(group), key=lambda i: (window[i], -i)))
    return best


def generated_length(sequence: Sequence[int], pad_id: int) -> int:
    """Tokens generated after the decoder start, end-of-sequence included, padding not."""
    return sum(1 for t in sequence[1:] if int(t) != pad_id)


def choose(model, encoder_states, sequences, attention_scores, beams: int,
           rescoring: CtcRescoring, weight: float) -> list[int]:
    """Row of ``sequences`` to keep for each image (``beams`` candidates per image, in
    the order generate returns them), by :func:`combined_scores`."""
    states = reading_order_states(model, encoder_states)
    # On the CPU whatever the device: a few hundred frames, and CTC's targets live there.
    log_probs = frame_log_probs(states, model.decoder.get_output_embeddings().weight).cpu()
    pad = model.config.pad_token_id
    rows, attention = sequences.tolist(), [float(s) for s in attention_scores]
    scores: list[float] = []
    for image in range(len(rows) // beams):
        group = range(image * beams, (image + 1) * beams)
        candidates = [symbol_ids(rows[i], rescoring.first_symbol_id) for i in group]
        ctc = ctc_log_likelihoods(log_probs[image], candidates, blank_id=pad)
        lengths = [generated_length(rows[i], pad) for i in group]
        scores += combined_scores([attention[i] for i in group], ctc, lengths, weight)
    return best_of_groups(scores, beams)

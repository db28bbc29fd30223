"""The encoder's CTC head: how the app reads it, and a model folder's hint to use it.

The bundled model was trained with a CTC loss on its encoder
(``training/trainer/encoder_losses.py``): the encoder's tokens, read column by column from left to
right and scored against the decoder's tied output embeddings, must emit the formula's
tokens in order. It adds no parameters, so at inference it is a second, independent
opinion, one that looks only at the pixels and not at the decoder's language model;
:mod:`model.ctc_prefix` lets it take part in the beam search. A model folder opts in
through ``snaptex.json``::

    "ctc_decoding": {"weight": 0.45, "first_symbol_id": 260}

(ids below ``first_symbol_id`` are special tokens and byte fall-backs, which the CTC loss
never saw as targets). Standard library at import time; never imports Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.options import check_ctc_weight

HINT_KEY = "ctc_decoding"
DEFAULT_WEIGHT = 0.45
DEFAULT_FIRST_SYMBOL_ID = 4  # ids 0-3: padding (the CTC blank), EOS, BOS, unknown
CLASS_TOKEN_ENCODERS = ("dpt", "vit")  # encoders whose first output token is a class token


@dataclass(frozen=True)
class CtcDecoding:
    """What a model folder says about its CTC head: how much it counts, which ids it read."""

    weight: float = DEFAULT_WEIGHT
    first_symbol_id: int = DEFAULT_FIRST_SYMBOL_ID

    @classmethod
    def from_hint(cls, data: Any) -> CtcDecoding | None:
        """The folder's ``ctc_decoding`` hint, or None when it has none."""
        if data is None:
            return None
        if not isinstance(data, dict):
            raise ValueError(f"snaptex.json: {HINT_KEY} must be an object, not {data!r}")
        unknown = set(data) - {"weight", "first_symbol_id"}
        if unknown:
            raise ValueError(f"snaptex.json: unknown {HINT_KEY} keys {sorted(unknown)}")
        defaults = cls()
        decoding = cls(weight=float(data.get("weight", defaults.weight)),
                        first_symbol_id=int(data.get("first_symbol_id",
                                                     defaults.first_symbol_id)))
        check_ctc_weight(decoding.weight, f"snaptex.json: {HINT_KEY}.weight")
        return decoding


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

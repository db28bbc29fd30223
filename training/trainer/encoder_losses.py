"""Auxiliary encoder losses that teach a from-scratch encoder to show the decoder the image.

Measured on the bundled model (``training.evaluate.reliance``): trained on the decoder's loss
alone, the encoder's output collapses towards one vector for every image and position (its
spread across a batch fell from 0.17 at initialisation to 0.007 after 600 steps): random
features only add noise to cross-attention, so the cheapest improvement is to silence them,
and then no gradient teaches the encoder to read. A loss on the encoder itself keeps its
features informative from step one. Two are offered:

- ``"ctc"``: the hybrid CTC/attention recipe of speech recognition. The encoder's tokens,
  read column by column from left to right, must emit the formula's tokens in order
  (CTC, blank = the padding id). Fractions and scripts break strict left-to-right order,
  so this is a guide, not the model; formulas longer than the encoder's token count are
  skipped (``zero_infinity``).
- ``"symbols"``: multiple-instance symbol spotting, described next.

A vision encoder-decoder trained from scratch first learns the decoder's language model:
it gets the loss down without looking at the image, and the cross-attention path that
would carry the image is learned late (measured on the bundled model: after 74k samples the
loss with shuffled images was within 0.2 nats/token of the true one). This term gives the
encoder a direct signal from step one: for every token of the vocabulary, "does it occur in
this formula?", scored by the best-matching encoder position against that token's output
embedding (multiple-instance learning, as in weakly supervised detection).

Neither adds parameters: the scores reuse the decoder's tied output embeddings, so the saved
checkpoint is the stock ``VisionEncoderDecoderModel`` and the encoder's features are pulled
towards the token space that cross-attention compares them with.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import Seq2SeqTrainer

# The CTC loss reads the encoder exactly as the app's joint CTC/attention search does.
from model.ctc_head import DEFAULT_FIRST_SYMBOL_ID, frame_log_probs, reading_order_states
from training.trainer import encoder_loss_defaults as defaults

# The logit of "absent" before training: about the share of the vocabulary one formula uses.
PRIOR_LOGIT = -4.0


def symbol_targets(labels, vocab_size: int, first_symbol_id: int):
    """(batch, vocab) multi-hot: which symbol tokens occur in each row of ``labels``.

    Ids below ``first_symbol_id`` (padding, BOS/EOS, byte fall-backs) and the loss mask
    (-100) are not symbols.
    """

    targets = torch.zeros(labels.shape[0], vocab_size, device=labels.device)
    symbols = labels.masked_fill(labels < first_symbol_id, 0)
    targets.scatter_(1, symbols, 1.0)
    targets[:, :first_symbol_id] = 0.0
    return targets


def symbol_logits(encoder_states, token_embeddings):
    """(batch, vocab): each token's best match over the encoder positions."""
    scores = encoder_states.float() @ token_embeddings.float().t()  # (batch, positions, V)
    return scores.amax(dim=1) + PRIOR_LOGIT


def symbol_loss(encoder_states, token_embeddings, labels, first_symbol_id: int):
    """Binary cross-entropy of the spotted symbols, summed over the symbol vocabulary and
    divided by the symbols each formula has.

    Why not the mean over the vocabulary: with ~20 of ~700 symbols present, a present
    symbol's gradient would be 1/700 of a decoder token's and the term would teach nothing.
    Per present symbol it weighs about as much as one target token of the decoder's loss.
    """

    logits = symbol_logits(encoder_states, token_embeddings)[:, first_symbol_id:]
    targets = symbol_targets(labels, token_embeddings.shape[0], first_symbol_id)
    targets = targets[:, first_symbol_id:]
    per_row = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(1)
    return (per_row / targets.sum(1).clamp(min=1.0)).mean()


def ctc_loss(encoder_states, token_embeddings, labels, first_symbol_id: int,
             blank_id: int = 0):
    """CTC of the formula's tokens over the encoder's tokens (already in reading order)."""

    log_probs = frame_log_probs(encoder_states, token_embeddings)  # (batch, frames, V)
    log_probs = log_probs.transpose(0, 1)  # (frames, batch, V), as CTC takes
    keep = labels >= first_symbol_id
    targets = labels[keep]
    target_lengths = keep.sum(1)
    frames = torch.full((labels.shape[0],), log_probs.shape[0], dtype=torch.long)
    return F.ctc_loss(log_probs, targets, frames, target_lengths, blank=blank_id,
                      reduction="mean", zero_infinity=True)


ENCODER_LOSSES = ("ctc", "symbols")


class EncoderLossTrainer(Seq2SeqTrainer):
    """``Seq2SeqTrainer`` whose loss adds ``encoder_loss_weight`` x an encoder loss.

    In a recipe: ``"trainer": "training.trainer.encoder_losses:EncoderLossTrainer"`` with
    ``"trainer_args": {"encoder_loss": "ctc", "encoder_loss_weight": 0.3,
    "first_symbol_id": 260}`` (ids below it are specials and byte fall-backs). The
    term's running mean is logged as ``encoder_loss``.
    """

    def __init__(self, *args, encoder_loss: str = defaults.ENCODER_LOSS,
                 encoder_loss_weight: float = defaults.ENCODER_LOSS_WEIGHT,
                 first_symbol_id: int = DEFAULT_FIRST_SYMBOL_ID, **kwargs):
        if encoder_loss not in ENCODER_LOSSES:
            raise ValueError(f"encoder_loss must be one of {', '.join(ENCODER_LOSSES)}, "
                             f"not {encoder_loss!r}")
        if encoder_loss_weight < 0:
            raise ValueError(f"encoder_loss_weight must be >= 0, not {encoder_loss_weight}")
        super().__init__(*args, **kwargs)
        self.encoder_loss = encoder_loss
        self.encoder_loss_weight = encoder_loss_weight
        self.first_symbol_id = first_symbol_id
        self._recent: list[float] = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"]
        loss, outputs = super().compute_loss(
            model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch
        )
        if self.encoder_loss_weight and model.training:
            extra = self.encoder_term(self.accelerator.unwrap_model(model), outputs, labels)
            self._recent.append(extra.item())
            loss = loss + self.encoder_loss_weight * extra
        return (loss, outputs) if return_outputs else loss

    def encoder_term(self, model, outputs, labels):
        embeddings = model.decoder.get_output_embeddings().weight
        states = outputs.encoder_last_hidden_state
        if self.encoder_loss == "symbols":
            if hasattr(model, "enc_to_dec_proj"):  # encoder narrower or wider than the decoder
                states = model.enc_to_dec_proj(states)
            return symbol_loss(states, embeddings, labels, self.first_symbol_id)
        return ctc_loss(reading_order_states(model, states), embeddings, labels,
                        self.first_symbol_id, blank_id=model.config.pad_token_id)

    def log(self, logs: dict, *args, **kwargs) -> None:
        if self._recent and "loss" in logs:
            logs["encoder_loss"] = round(sum(self._recent) / len(self._recent), 4)
            self._recent.clear()
        super().log(logs, *args, **kwargs)

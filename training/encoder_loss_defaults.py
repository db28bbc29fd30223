"""Defaults of the encoder loss (training/encoder_losses.py), in a module of their own:
recipes read them (training/recipe.py) without importing transformers."""

from model.ctc_head import DEFAULT_FIRST_SYMBOL_ID

ENCODER_LOSS = "ctc"
ENCODER_LOSS_WEIGHT = 0.3
FIRST_SYMBOL_ID = DEFAULT_FIRST_SYMBOL_ID  # below it: padding, EOS, BOS, unknown

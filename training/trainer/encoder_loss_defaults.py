"""Defaults of the encoder loss (training/trainer/encoder_losses.py), in a module of their own:
recipes read them (training/recipe.py) without importing transformers. The default first
symbol id is the CTC head's, ``model.ctc_head.DEFAULT_FIRST_SYMBOL_ID``."""

ENCODER_LOSS = "ctc"
ENCODER_LOSS_WEIGHT = 0.3

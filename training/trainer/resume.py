"""Resuming a run: a checkpoint's weights come back through ``from_pretrained``.

The Trainer restores a checkpoint's weights with a plain ``load_state_dict(strict=False)``,
which skips the key renames that ``from_pretrained`` applies where a model class stores
its weights under other names than it holds them (T5Gemma-2 keeps
``model.encoder.text_model.layers.*`` in memory and writes ``model.encoder.layers.*``).
transformers only warns about the keys it missed, so a resumed run would go on from its
*initial* weights with the checkpoint's optimiser, schedule and data position. Loading
through the model class itself, then strictly, restores every weight or fails loudly.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def load_checkpoint_weights(model, checkpoint: str) -> None:
    """Every weight of ``model`` from the ``save_pretrained`` folder ``checkpoint``."""
    dtype = next(model.parameters()).dtype
    saved = type(model).from_pretrained(checkpoint, dtype=dtype)
    model.load_state_dict(saved.state_dict(), strict=True)
    logger.info("weights restored from %s", checkpoint)


def resumable(trainer_class: type) -> type:
    """``trainer_class`` with the checkpoint weights loaded by the model's own class."""

    class Resumable(trainer_class):
        def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
            load_checkpoint_weights(model if model is not None else self.model,
                                    resume_from_checkpoint)

    Resumable.__name__ = Resumable.__qualname__ = f"Resumable{trainer_class.__name__}"
    return Resumable

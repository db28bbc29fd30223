"""Give the bundled model's ResNet more blocks without changing what it reads.

The hybrid encoder's ResNet (BiT stages of 2, 2, 2 bottleneck blocks) is where glyph
detail is read, and it costs little: the whole encoder is about a tenth of a snip's time,
the beam search the rest. pix2tex's ResNet has 2, 3, 7 blocks. Growing a stage appends
blocks whose last normalisation is zeroed: such a block adds nothing to its input, and its
input is already past a ReLU, so the grown model reads every image exactly as the source
does and training starts from the source's accuracy rather than from scratch.

Used as a recipe ``build`` hook (``training.models.deepen:deepen_for_recipe``, with
``build_args: {"cnn_depths": [2, 3, 6]}``); the grown model is written once to
``<output_dir>/init`` so a resumed run starts from the same weights.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import torch

from model.manifest import HINTS_FILE
from training.models.pretrained import load_pretrained_from
from training.recipe import RecipeError, output_dir_of

logger = logging.getLogger(__name__)


def resnet_stages(model) -> list:
    """The BiT stages of a hybrid encoder (each has ``.layers``)."""
    try:
        return list(model.encoder.embeddings.backbone.bit.encoder.stages)
    except AttributeError:
        raise RecipeError("only a hybrid (ResNet + ViT) encoder can be deepened") from None


def check_depths(old: Sequence[int], new: Sequence[int]) -> list[int]:
    if len(new) != len(old):
        raise RecipeError(f"cnn_depths needs {len(old)} stages, got {list(new)}")
    if any(n < o for o, n in zip(old, new, strict=True)):
        raise RecipeError(f"cnn_depths can only grow: {list(old)} -> {list(new)}")
    return list(new)


def silence_new_blocks(model, old_depths: Sequence[int]) -> int:
    """Zero the last norm of every block past ``old_depths``: each adds nothing yet."""
    silenced = 0
    for stage, old in zip(resnet_stages(model), old_depths, strict=True):
        for block in list(stage.layers)[old:]:
            torch.nn.init.zeros_(block.norm3.weight)
            torch.nn.init.zeros_(block.norm3.bias)
            silenced += 1
    return silenced


def deepen(source: str | Path, out_dir: str | Path, depths: Sequence[int]) -> Path:
    """Write ``source`` with its ResNet stages grown to ``depths`` into ``out_dir``."""
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

    config = AutoConfig.from_pretrained(source)
    backbone = config.encoder.backbone_config
    old = list(backbone.depths)
    backbone.depths = check_depths(old, depths)
    # The new blocks are reported missing and initialised; the rest load as saved.
    model = AutoModelForImageTextToText.from_pretrained(source, config=config,
                                                        dtype=torch.float32)
    count = silence_new_blocks(model, old)
    out = Path(out_dir)
    model.save_pretrained(out)
    AutoProcessor.from_pretrained(source).save_pretrained(out)
    if (Path(source) / HINTS_FILE).is_file():  # input hints and self-check travel along
        shutil.copy(Path(source) / HINTS_FILE, out / HINTS_FILE)
    logger.info("ResNet stages %s -> %s: %d blocks added (silent), saved to %s",
                old, backbone.depths, count, out)
    return out


def deepen_for_recipe(recipe):
    """``build`` hook: grow ``recipe.model`` once into ``<output_dir>/init``."""
    depths = recipe.build_args.get("cnn_depths")
    if not depths:
        raise RecipeError("build_args.cnn_depths is required, e.g. [2, 3, 6]")
    init_dir = output_dir_of(recipe) / "init"
    if not (init_dir / "config.json").is_file():
        deepen(recipe.model, init_dir, depths)
    return load_pretrained_from(dataclasses.replace(recipe, model=str(init_dir)))

"""Batch collators: examples ``{"image": PIL, "text": LaTeX}`` -> model inputs + labels.

:class:`PromptedCollator` is the seed tutorial's collator for T5Gemma-2: images to RGB,
one image per sample as a nested list, the fixed prompt, no truncation of the input
(each ``<start_of_image>`` must expand to exactly ``mm_tokens_per_image``
placeholders), targets tokenised separately and padding masked to -100.
:class:`PixelCollator` is the same for pixel-only vision-encoder-decoder models.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from model.errors import BadImageError
from model.preprocess import letterbox, prepare
from training.recipe import Recipe, RecipeError

logger = logging.getLogger(__name__)

IGNORE_INDEX = -100  # positions the loss skips


def import_object(target: str) -> Any:
    """``"package.module:attr"`` -> the attribute, with a one-line error."""
    module_name, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise RecipeError(f"cannot import {target!r}: {exc}") from None


def tokenizer_of(processor: Any) -> Any:
    return getattr(processor, "tokenizer", processor)


@dataclass
class TargetEncoder:
    """LaTeX strings -> label ids, padding masked so the loss ignores it."""

    tokenizer: Any
    max_length: int = 256
    padding: str = "longest"
    add_eos: bool = False

    def __call__(self, texts: list[str]):
        if self.add_eos:
            texts = [text + self.tokenizer.eos_token for text in texts]
        # Targets pad on the right whatever the tokenizer's default (Gemma's is left):
        # left-padded labels would teach the decoder to start every answer after pads.
        encoded = self.tokenizer(
            texts,
            padding=self.padding,
            truncation=True,
            max_length=self.max_length,
            padding_side="right",
            return_tensors="pt",
        )
        labels = encoded["input_ids"].clone()
        # Mask by the attention mask, not by pad id: where pad == eos (GPT-2 style
        # decoders) masking by id would also hide the real end of the sequence.
        labels[encoded["attention_mask"] == 0] = IGNORE_INDEX
        return labels


@dataclass
class ImagePreparer:
    """The same pixels as inference when ``preprocess`` is on, then RGB."""

    preprocess: bool = False
    letterbox: float | None = None
    anchor: str = "center"

    def __call__(self, image):
        if self.preprocess:
            try:
                image = prepare(image)
            except BadImageError as exc:  # e.g. a blank image: train on it as it is
                logger.debug("preprocess skipped: %s", exc)
        image = image.convert("RGB")
        if self.letterbox:
            image = letterbox(image, aspect=self.letterbox, anchor=self.anchor)
        return image


@dataclass
class PromptedCollator:
    """Image + fixed prompt for encoder, LaTeX labels for decoder (T5Gemma-2)."""

    processor: Any
    prompt: str
    targets: TargetEncoder
    images: ImagePreparer = field(default_factory=ImagePreparer)

    def __call__(self, examples: list[dict[str, Any]]):
        images = [[self.images(ex["image"])] for ex in examples]
        prompts = [self.prompt] * len(examples)
        # No truncation: cutting the input would break the image-token count.
        batch = self.processor(
            text=prompts, images=images, padding=True, return_tensors="pt"
        )
        batch["labels"] = self.targets([ex["text"] for ex in examples])
        return batch


@dataclass
class PixelCollator:
    """Pixels only (vision-encoder-decoder): ``pixel_values`` + ``labels``."""

    processor: Any
    targets: TargetEncoder
    images: ImagePreparer = field(default_factory=ImagePreparer)

    def __call__(self, examples: list[dict[str, Any]]):
        images = [self.images(ex["image"]) for ex in examples]
        image_processor = getattr(self.processor, "image_processor", self.processor)
        pixels = image_processor(images, return_tensors="pt")["pixel_values"]
        return {
            "pixel_values": pixels,
            "labels": self.targets([ex["text"] for ex in examples]),
        }


def make_collator(processor: Any, recipe: Recipe):
    """The recipe's ``collator`` hook if set, else the prompted or pixel-only one."""
    if recipe.collator:
        factory = import_object(recipe.collator)
        return factory(processor=processor, recipe=recipe, **recipe.collator_args)
    targets = TargetEncoder(
        tokenizer_of(processor),
        max_length=recipe.max_target_length,
        padding=recipe.label_padding,
        add_eos=recipe.targets_add_eos,
    )
    images = ImagePreparer(recipe.preprocess, recipe.letterbox, recipe.letterbox_anchor)
    if recipe.prompt is None:
        return PixelCollator(processor, targets, images)
    return PromptedCollator(processor, recipe.prompt, targets, images)

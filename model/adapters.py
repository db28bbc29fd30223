"""Per-architecture glue: how images become model inputs.

Every supported checkpoint loads through the stock Auto classes; what differs is only the
input side. T5Gemma-2 wants a prompt with ``<start_of_image>`` and a square image (so wide
formulas are letterboxed, not squashed); a vision-encoder-decoder wants pixels only and
its own image processor keeps the aspect ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image

from model.errors import ModelLoadError
from model.preprocess import letterbox


@dataclass(frozen=True)
class PromptedAdapter:
    """T5Gemma-2 (Gemma3Processor): prompt + one image per sample."""

    name: str = "t5gemma2"

    def inputs(self, processor, images: list[Image.Image], prompt: str) -> dict[str, Any]:
        square = [letterbox(image, 1.0) for image in images]
        return processor(images=[[im] for im in square], text=[prompt] * len(images),
                         return_tensors="pt", padding=True)

    def check(self, model, processor) -> None:
        """The checks that catch a mismatched processor before it produces garbage."""
        tokenizer = processor.tokenizer
        expected = model.config.image_token_index
        if getattr(tokenizer, "image_token_id", None) != expected:
            raise ModelLoadError(
                f"tokenizer image token id {getattr(tokenizer, 'image_token_id', None)} "
                f"!= config.image_token_index {expected}: processor and model do not match"
            )
        vision = model.config.encoder.vision_config.image_size
        size = processor.image_processor.size
        got = (getattr(size, "height", None), getattr(size, "width", None))
        if isinstance(size, dict):
            got = (size.get("height"), size.get("width"))
        if got != (vision, vision):
            raise ModelLoadError(
                f"processor image size {got} != vision tower image size {vision}"
            )


@dataclass(frozen=True)
class PixelAdapter:
    """VisionEncoderDecoderModel: pixels in, text out; no prompt."""

    name: str = "vision-encoder-decoder"

    def inputs(self, processor, images: list[Image.Image], prompt: str) -> dict[str, Any]:
        image_processor = getattr(processor, "image_processor", processor)
        return dict(image_processor(images=images, return_tensors="pt"))

    def check(self, model, processor) -> None:
        if getattr(processor, "tokenizer", None) is None:
            raise ModelLoadError("the model folder's processor has no tokenizer")


ADAPTERS = {"t5gemma2": PromptedAdapter(), "vision-encoder-decoder": PixelAdapter()}


def adapter_for(model_type: str):
    try:
        return ADAPTERS[model_type]
    except KeyError:
        supported = ", ".join(sorted(ADAPTERS))
        raise ModelLoadError(
            f"unsupported model type {model_type!r} (supported: {supported})"
        ) from None

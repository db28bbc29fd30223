"""Per-architecture glue: how images become model inputs.

Every supported checkpoint loads through the stock Auto classes; what differs is only the
input side. T5Gemma-2 wants a prompt with ``<start_of_image>`` and a square image (so wide
formulas are letterboxed, not squashed); a vision-encoder-decoder wants pixels only and
its own image processor keeps the aspect ratio.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from model.errors import ModelLoadError
from model.preprocess import ANCHORS, letterbox


@dataclass(frozen=True)
class PromptedAdapter:
    """T5Gemma-2 (Gemma3Processor): prompt + one image per sample.

    Its processor resizes to a square without keeping the aspect ratio, so by default
    wide formulas are letterboxed first; a model folder trained on squashed images
    says ``"input": {"letterbox": null}`` in ``snaptex.json``.
    """

    name: str = "t5gemma2"
    auto_class: str = "AutoModelForSeq2SeqLM"
    letterbox: float | None = 1.0
    anchor: str = "center"
    preprocess: bool = True  # snaptex.json's input.preprocess (see prepares_snips)
    # snaptex.json's input.split_rows: multi-line blocks are read row by row
    # (model/layout); only for a model measured to read rows better than whole blocks.
    split_rows: bool = False

    def inputs(
        self, processor, images: list[Image.Image], prompt: str
    ) -> dict[str, Any]:
        if self.letterbox:
            images = [letterbox(image, self.letterbox, anchor=self.anchor) for image in images]
        return processor(
            images=[[im] for im in images],
            text=[prompt] * len(images),
            return_tensors="pt",
            padding=True,
        )

    def echo_prompt(self, prompt: str) -> str | None:
        """The prompt the clean-up removes when the model echoes it."""
        return prompt

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
    auto_class: str = "AutoModelForImageTextToText"
    letterbox: float | None = None  # its image processor keeps the aspect ratio
    anchor: str = "center"
    preprocess: bool = True
    split_rows: bool = False

    def inputs(
        self, processor, images: list[Image.Image], prompt: str
    ) -> dict[str, Any]:
        if self.letterbox:
            images = [letterbox(image, self.letterbox, anchor=self.anchor) for image in images]
        image_processor = getattr(processor, "image_processor", processor)
        return dict(image_processor(images=images, return_tensors="pt"))

    def echo_prompt(self, prompt: str) -> str | None:
        return None  # never sees a prompt, so never echoes one

    def check(self, model, processor) -> None:
        if getattr(processor, "tokenizer", None) is None:
            raise ModelLoadError("the model folder's processor has no tokenizer")


ADAPTERS = {"t5gemma2": PromptedAdapter(), "vision-encoder-decoder": PixelAdapter()}


def adapter_for(model_type: str, input_hints: dict[str, Any] | None = None):
    """The adapter for ``model_type``, with the folder's ``input`` hints applied."""
    try:
        adapter = ADAPTERS[model_type]
    except KeyError:
        supported = ", ".join(sorted(ADAPTERS))
        raise ModelLoadError(
            f"unsupported model type {model_type!r} (supported: {supported})"
        ) from None
    if input_hints and "letterbox" in input_hints:
        adapter = replace(adapter, letterbox=input_hints["letterbox"])
    if input_hints and "anchor" in input_hints:
        if input_hints["anchor"] not in ANCHORS:
            raise ModelLoadError(f"snaptex.json: input.anchor must be one of "
                                 f"{', '.join(ANCHORS)}, not {input_hints['anchor']!r}")
        adapter = replace(adapter, anchor=input_hints["anchor"])
    for flag in ("preprocess", "split_rows"):
        if input_hints and input_hints.get(flag) is not None:
            if not isinstance(input_hints[flag], bool):
                raise ModelLoadError(f"snaptex.json: input.{flag} must be true or false, "
                                     f"not {input_hints[flag]!r}")
            adapter = replace(adapter, **{flag: input_hints[flag]})
    return adapter


def prepares_snips(adapter, options) -> bool:
    """Whether snips go through ``model.preprocess.prepare`` (flatten, invert, crop).

    An explicit ``options.preprocess`` wins; None follows the model folder: a model
    trained on raw images (``"input": {"preprocess": false}``, such as a T5Gemma-2
    fine-tune made by the tutorial's recipe) must see the pixels it was trained on.
    """
    if options.preprocess is not None:
        return bool(options.preprocess)
    return adapter.preprocess

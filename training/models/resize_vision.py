"""Give a T5Gemma-2 checkpoint a smaller SigLIP input size (448 or 224 px, not 896).

SigLIP costs grow with the number of 14-px patches (4,096 at 896 px, 1,024 at 448, 256
at 224) and attention quadratically on top: the biggest lever on encoder time.
The tool

* bicubically interpolates SigLIP's learned position table to the new patch grid,
* sets ``vision_config.image_size`` and keeps ``mm_tokens_per_image`` (256) when the new
  patch grid still pools evenly to it (448 px: 2x2 pooling, 224 px: none), else the
  largest square token grid that does (``--mm-tokens`` to choose),
* rebuilds the processor for the new size and token count,
* records ``vision_resized_from`` in ``snaptex.json``.

**The result needs a fine-tune at the new size**: interpolated positions and a 4x/16x
coarser view of the formula are not what the weights were trained on, so accuracy drops
until the model is fine-tuned (the training recipes load the folder like any other).

    python -m training.models.resize_vision SRC_MODEL_DIR OUT_DIR --size 448
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoProcessor

from model.manifest import read_hints, update_hints
from training.command import guarded, setup_logging

logger = logging.getLogger(__name__)

WRITTEN_BY_SAVE = {
    "config.json",
    "generation_config.json",
    "model.safetensors.index.json",
    "processor_config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "tokenizer.model",
}


class ResizeError(Exception):
    """Bad input for resizing (shown as a one-line error by the CLI)."""


def pooled_tokens(image_size: int, patch_size: int, mm_tokens: int) -> int:
    """``mm_tokens_per_image`` for SigLIP at ``image_size``: the projector average-pools
    the patch grid by an integer kernel, so the token grid side must divide the patch
    grid side.
    Keeps ``mm_tokens`` when possible (same text-encoder length as trained), else the
    largest square grid that pools evenly."""
    if image_size % patch_size:
        raise ValueError(
            f"image size {image_size} is not a multiple of patch {patch_size}"
        )
    patches = image_size // patch_size
    side = math.isqrt(mm_tokens) if mm_tokens > 0 else 0
    if side * side != mm_tokens or side < 1:
        raise ValueError(f"mm_tokens_per_image {mm_tokens} is not a square")
    best = max(d for d in range(1, min(side, patches) + 1) if patches % d == 0)
    return best * best


def interpolate_positions(table, new_side: int):
    """A (side*side, hidden) position table resampled to (new_side*new_side, hidden)."""

    count, hidden = table.shape
    side = math.isqrt(count)
    if side * side != count:
        raise ResizeError(f"position table of {count} rows is not a square grid")
    grid = table.float().reshape(1, side, side, hidden).permute(0, 3, 1, 2)
    # antialias: shrinking a grid 2-4x without it aliases the learned high frequencies.
    resized = F.interpolate(
        grid,
        size=(new_side, new_side),
        mode="bicubic",
        align_corners=False,
        antialias=new_side < side,
    )
    return (
        resized.permute(0, 2, 3, 1).reshape(new_side * new_side, hidden).to(table.dtype)
    )


def resolve_tokens(size: int, patch: int, mm_tokens: int, requested: int | None) -> int:
    """The new ``mm_tokens_per_image``: requested (validated) or the pooled default."""
    if size % patch:
        raise ResizeError(f"--size {size} is not a multiple of the patch size {patch}")
    if requested is None:
        return pooled_tokens(size, patch, mm_tokens)
    side = math.isqrt(requested) if requested > 0 else 0
    patches = size // patch
    if side * side != requested or side < 1 or patches % side:
        raise ResizeError(
            f"--mm-tokens {requested} must be a square whose side divides "
            f"the {patches}x{patches} patch grid"
        )
    return requested


def resize_model(model, size: int, mm_tokens: int):
    """Resample the position table in place and update the config; returns the model."""

    vision_config = model.config.encoder.vision_config
    tower = model.get_encoder().vision_tower
    # transformers 5 flattened SiglipVisionModel; older versions nest a vision_model.
    embeddings = getattr(tower, "vision_model", tower).embeddings
    new_side = size // vision_config.patch_size
    table = interpolate_positions(embeddings.position_embedding.weight.data, new_side)
    embeddings.position_embedding = torch.nn.Embedding.from_pretrained(
        table, freeze=False
    )
    embeddings.num_patches = embeddings.num_positions = new_side * new_side
    embeddings.image_size = size
    embeddings.register_buffer(
        "position_ids", torch.arange(new_side * new_side)[None], persistent=False
    )
    vision_config.image_size = size
    model.config.encoder.mm_tokens_per_image = mm_tokens
    return model


def resize_processor(processor, size: int, mm_tokens: int):
    """The same processor class at the new image size and image-token count."""
    image_processor = processor.image_processor
    image_processor.size = {"height": size, "width": size}
    return type(processor)(
        image_processor=image_processor,
        tokenizer=processor.tokenizer,
        image_seq_length=mm_tokens,
        chat_template=getattr(processor, "chat_template", None),
    )


def resize_checkpoint(
    src: str | Path, dst: str | Path, size: int, mm_tokens: int | None = None
) -> dict[str, int]:
    """Write the resized checkpoint + processor to ``dst``; returns what changed."""

    src, dst = Path(src), Path(dst)
    if not (src / "config.json").is_file():
        raise ResizeError(f"{src} is not a model folder (no config.json)")
    if dst.resolve() == src.resolve():
        raise ResizeError("the output folder must differ from the input folder")
    config = AutoConfig.from_pretrained(src)
    if config.model_type != "t5gemma2":
        raise ResizeError(f"expected a t5gemma2 checkpoint, got {config.model_type!r}")
    vision = config.encoder.vision_config
    old_size, old_tokens = vision.image_size, config.encoder.mm_tokens_per_image
    tokens = resolve_tokens(size, vision.patch_size, old_tokens, mm_tokens)
    model = resize_model(
        AutoModelForSeq2SeqLM.from_pretrained(src, dtype="auto"), size, tokens
    )
    processor = resize_processor(AutoProcessor.from_pretrained(src), size, tokens)
    dst.mkdir(parents=True, exist_ok=True)
    copy_other_files(src, dst)
    model.save_pretrained(dst)
    processor.save_pretrained(dst)
    # Hints came along with the other files: a second resize keeps the first original.
    original = read_hints(dst).vision_resized_from or old_size
    update_hints(
        dst, vision_resized_from=original, vision_image_size=size, needs_finetune=True
    )
    logger.info(
        "resized vision %d -> %d px, %d -> %d image tokens, in %s",
        old_size,
        size,
        old_tokens,
        tokens,
        dst,
    )
    return {
        "from_size": old_size,
        "size": size,
        "from_mm_tokens": old_tokens,
        "mm_tokens": tokens,
        "original_size": original,
    }


def copy_other_files(src: Path, dst: Path) -> None:
    """Copy files save_pretrained does not write (snaptex.json, pruning reports ...)."""
    for item in src.iterdir():
        if (
            item.is_file()
            and item.name not in WRITTEN_BY_SAVE
            and item.suffix not in (".safetensors", ".bin")
        ):
            shutil.copy2(item, dst / item.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.models.resize_vision", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("model", help="T5Gemma-2 checkpoint folder")
    parser.add_argument("out", help="output folder")
    parser.add_argument(
        "--size", type=int, required=True, help="new image size, e.g. 448"
    )
    parser.add_argument(
        "--mm-tokens",
        type=int,
        default=None,
        help="image tokens per image (default: keep, if it pools evenly)",
    )
    args = parser.parse_args(argv)

    setup_logging()
    return guarded("resize_vision", lambda: _print_json(
        resize_checkpoint(args.model, args.out, args.size, args.mm_tokens)),
        (ResizeError, OSError, ValueError))


def _print_json(result: dict) -> int:
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

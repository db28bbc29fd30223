"""A recipe's starting checkpoint (hub id or folder), loaded through the Auto classes.

The trainer and the recipe ``build`` hooks (which build a model into a folder first) both
end here, so every run starts from a folder ``from_pretrained`` can read.
"""

from __future__ import annotations

from training.recipe import Recipe, RecipeError, resolve_local


def torch_dtype(name: str):
    import torch  # see load_pretrained_from

    return "auto" if name == "auto" else getattr(torch, name)


def load_pretrained_from(recipe: Recipe):
    """``recipe.model`` (hub id or folder) through the Auto classes."""
    # Imported here: transformers takes seconds, and `snaptex train --help` or a recipe
    # error should answer at once. One Auto class covers both families.
    from transformers import AutoModelForImageTextToText, AutoProcessor

    local = resolve_local(str(recipe.model))
    source = str(local or recipe.model)
    try:
        processor = AutoProcessor.from_pretrained(
            source,
            use_fast=recipe.processor_use_fast,
            local_files_only=local is not None,
        )
        model = AutoModelForImageTextToText.from_pretrained(
            source, dtype=torch_dtype(recipe.dtype), local_files_only=local is not None
        )
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or ["?"])[0]
        raise RecipeError(f"cannot load model {recipe.model}: {first}"
                          f"{gated_hint(str(exc), str(recipe.model))}") from None
    return model, processor


def gated_hint(message: str, model: str) -> str:
    """How to get gated weights (Gemma's licence), when that is what failed."""
    if "gated" not in message.lower() and "401" not in message:
        return ""
    return (f" (the weights are gated: accept the licence once at "
            f"https://huggingface.co/{model}, then `huggingface-cli login` or set HF_TOKEN)")

"""Checks before a run: fail in seconds with a clear message, not later with a trace.

The reproduction recipe wants a CUDA GPU and the Hugging Face hub; most machines that
run SnapTeX have neither. Every problem is collected and reported at once, each with
the override that gets past it.
"""

from __future__ import annotations

import logging
import os

from training.recipe import Recipe, RecipeError, looks_like_path, resolve_local

logger = logging.getLogger(__name__)

HUB_TIMEOUT_S = 8.0


def resolve_device(requested: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``."""
    import torch  # seconds to import: `snaptex train --help` must not wait for it

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def check(recipe: Recipe) -> str:
    """The device to train on, or :class:`RecipeError` listing every problem."""
    problems = _device_problems(recipe)
    if recipe.build is None and recipe.model:
        problems += _source_problems(recipe.model, "model", "--model LOCAL_DIR")
    for source in recipe.datasets:
        problems += _source_problems(source.path, "dataset", "--dataset LOCAL_DIR")
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise RecipeError(f"recipe {recipe.name!r} cannot start here:\n{listed}")
    return resolve_device(recipe.device)


def _device_problems(recipe: Recipe) -> list[str]:
    import torch  # see resolve_device

    if recipe.device == "cuda" and not torch.cuda.is_available():
        return [
            "it needs a CUDA GPU and none is visible "
            "(override with --device cpu: slow, but it runs)"
        ]
    return []


def _source_problems(path: str, kind: str, override: str) -> list[str]:
    if resolve_local(path) is not None:
        return []
    if looks_like_path(path):
        return [f"no {kind} folder at {path}"]
    repo_type = "dataset" if kind == "dataset" else "model"
    if hub_available(path, repo_type):
        return []
    return [
        f"{kind} {path!r} is not cached and the Hugging Face hub is unreachable "
        f"(use a local copy: {override})"
    ]


def hub_available(repo_id: str, repo_type: str) -> bool:
    """True when ``repo_id`` is in the local cache or the hub answers for it."""
    from huggingface_hub import HfApi, try_to_load_from_cache  # 0.2 s; only for hub ids

    marker = "config.json" if repo_type == "model" else "README.md"
    cached = try_to_load_from_cache(repo_id, marker, repo_type=repo_type)
    if isinstance(cached, str):
        return True
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    try:
        HfApi().repo_info(repo_id, repo_type=repo_type, timeout=HUB_TIMEOUT_S)
    except Exception as exc:  # any network, auth or not-found failure means "no"
        logger.debug("hub check for %s failed: %s", repo_id, exc)
        return False
    return True

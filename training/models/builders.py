"""``build`` hooks for recipes: ``function(recipe) -> (model, processor)``.

A recipe names one as ``"build": "training.models.builders:tiny_t5gemma2"``. Builders let a
recipe start from a model that is not on the hub (a random shape for smoke runs, a
from-scratch model) while everything after step 4 of ``training.trainer.train`` stays the same.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from training.models.pretrained import load_pretrained_from
from training.models.t5gemma2 import build_t5gemma2
from training.recipe import REPO_ROOT, Recipe, RecipeError, output_dir_of, resolve_local

logger = logging.getLogger(__name__)

FORMULAS = REPO_ROOT.parent / "shared" / "data" / "formulas"


def formulas_dir(recipe: Recipe) -> Path:
    """The folder of formula lists (``<source>/formulas.txt``) a tokenizer is built from:
    ``build_args.formulas_dir`` (the smoke recipes name the repository's test fixtures,
    so they run on a fresh clone), else the full lists beside the repository."""
    named = recipe.build_args.get("formulas_dir")
    if not named:
        return FORMULAS
    found = resolve_local(named)
    if found is None:
        raise RecipeError(f"no formula folder at {named} (build_args.formulas_dir)")
    return found


def formula_corpus(limit: int, folder: Path = FORMULAS) -> list[str]:
    """Formulas to train a LaTeX tokenizer on: raw and space-tokenised styles."""
    lines: list[str] = []
    for name in ("math_competition", "im2latex_100k"):
        path = folder / name / "formulas.txt"
        if not path.is_file():
            raise RecipeError(
                f"no formula corpus at {path} (needed to build a tokenizer)"
            )
        with path.open(encoding="utf-8") as fh:
            lines += [next(fh).strip() for _ in range(limit // 2)]
    return lines


def tiny_t5gemma2(recipe: Recipe):
    """A randomly initialised T5Gemma-2 of ``build_args.shape`` (default ``tiny``).

    Built once into ``<output_dir>/init`` with :mod:`training.models.t5gemma2`, then loaded through
    the Auto classes exactly like a hub checkpoint.
    """
    options = {
        "shape": "tiny",
        "vocab_size": 600,
        "formulas": 4000,
        "seed": 0,
        **recipe.build_args,
    }
    init_dir = output_dir_of(recipe) / "init"
    if not (init_dir / "config.json").is_file():
        build_t5gemma2(
            init_dir,
            options["shape"],
            formula_corpus(options["formulas"], formulas_dir(recipe)),
            vocab_size=options["vocab_size"],
            seed=options["seed"],
        )
    logger.info("built %s T5Gemma-2 in %s", options["shape"], init_dir)
    return load_pretrained_from(dataclasses.replace(recipe, model=str(init_dir)))

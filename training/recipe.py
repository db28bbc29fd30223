"""Training recipes: one dataclass, stored as JSON, read by the one training entry.

A recipe is data, not a code path: ``training/recipes/t5gemma2-a100.json``
reproduces the seed tutorial exactly, and every other recipe (a frozen vision tower,
letterboxed images, more data, a model built from scratch) reuses the same loader,
collator and trainer by changing fields here. Hooks that need code are named as
``"module:attr"`` strings (``build``, ``collator``) so a new model plugs in without
editing this package.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from model.ctc_head import DEFAULT_FIRST_SYMBOL_ID, DEFAULT_WEIGHT
from model.options import SEED_PROMPT
from training.trainer import encoder_loss_defaults as defaults

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
RECIPES_DIR = Path(__file__).resolve().parent / "recipes"
DEFAULT_RECIPE = "t5gemma2-a100"


class RecipeError(ValueError):
    """A recipe or an override that cannot be used; ``str()`` is a one-line message."""


@dataclass(frozen=True)
class DataSource:
    """One data set: a hub id or a local folder in the im2latex parquet shape.

    ``train_rows``/``eval_rows`` reproduce the tutorial's
    ``split.shuffle(seed=shuffle_seed).select(range(rows))``; ``None`` keeps every row.
    ``weight`` is this source's share of the training mix when there are several.
    ``name`` is the hub config (``"full"``); local folders have no configs.
    ``max_formula_chars`` keeps only formulas of at most that many non-space characters
    (a curriculum stage: short formulas teach a from-scratch decoder to read the image
    before long ones let it lean on its language model).
    """

    path: str
    name: str | None = None
    weight: float = 1.0
    train_split: str = "train"
    eval_split: str | None = "validation"
    train_rows: int | None = None
    eval_rows: int | None = None
    shuffle_seed: int | None = 42
    image_column: str = "image"
    text_column: str = "text"
    max_formula_chars: int | None = None


@dataclass(frozen=True)
class Recipe:
    """Everything one training run needs. See ``training/recipes/*.json`` for examples.

    Model: ``model`` (hub id or folder, loaded with the Auto classes) or ``build``
    (``"module:function"``, called as ``function(recipe) -> (model, processor)``; it may
    read ``model`` and ``build_args``). Inputs: ``prompt`` is the text given with each
    image (``None`` for pixel-only vision-encoder-decoder models). ``preprocess`` runs
    ``model.preprocess.prepare`` on training images so training and inference see the
    same pixels; ``letterbox`` pads them to a width/height ratio
    (``model.preprocess.letterbox``; inference must then letterbox too). ``collator``
    (``"module:attr"``, called as ``attr(processor=..., recipe=..., **collator_args)``)
    replaces the built-in collators.
    ``training_args`` go to ``Seq2SeqTrainingArguments`` unchanged.
    """

    name: str
    description: str = ""
    model: str | None = None
    build: str | None = None
    build_args: dict[str, Any] = field(default_factory=dict)
    # "bfloat16", "float32", "float16" or "auto" (the checkpoint's own).
    dtype: str = "auto"
    processor_use_fast: bool = True
    # Added, with the embeddings resized, only when the tokenizer has no pad token.
    pad_token: str = "<pad>"
    # Parameter-name substrings to freeze, e.g. ["vision_tower"].
    freeze: tuple[str, ...] = ()
    prompt: str | None = SEED_PROMPT
    datasets: tuple[DataSource, ...] = ()
    preprocess: bool = False
    # Pad images to this width/height ratio (never squash); None: leave them be.
    letterbox: float | None = None
    # Where letterboxing puts the image: "center" or "top-left" (model.preprocess.letterbox).
    letterbox_anchor: str = "center"
    max_target_length: int = 256
    # "longest" or "max_length"; padding is masked to -100 either way.
    label_padding: str = "longest"
    # Append EOS to every target so generation learns to stop (the tutorial does not).
    targets_add_eos: bool = False
    collator: str | None = None
    collator_args: dict[str, Any] = field(default_factory=dict)
    # A ``Seq2SeqTrainer`` subclass as ``"module:attr"`` (an extra loss term, say), built
    # with the usual arguments plus ``**trainer_args``; None: the stock trainer.
    trainer: str | None = None
    trainer_args: dict[str, Any] = field(default_factory=dict)
    seed: int = 42
    # "cuda" makes the recipe refuse to start without a GPU; "auto" takes what exists.
    device: str = "auto"
    tf32: bool = False
    # Default: runs/<name> under the current directory.
    output_dir: str | None = None
    training_args: dict[str, Any] = field(default_factory=dict)
    # Stages trained before the full mix, in order: ``{"steps": N, "max_formula_chars":
    # M}`` = N optimiser steps on every source's formulas of <= M characters (a from-scratch
    # decoder learns to read on short formulas, whose tokens its language model cannot
    # guess). The run then samples in order, so ``train_sampling_strategy`` is sequential.
    curriculum: tuple[dict[str, int], ...] = ()

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Build from parsed JSON; unknown keys are errors (typos must not pass)."""
        _reject_unknown(cls, data, "recipe")
        values = dict(data)
        sources = values.get("datasets") or []
        if isinstance(sources, (str, dict)):
            sources = [sources]
        values["datasets"] = tuple(_data_source(s) for s in sources)
        values["freeze"] = tuple(values.get("freeze") or ())
        values["curriculum"] = tuple(values.get("curriculum") or ())
        try:
            return cls(**values)
        except TypeError as exc:
            raise RecipeError(f"recipe is incomplete: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["datasets"] = [dataclasses.asdict(s) for s in self.datasets]
        data["freeze"] = list(self.freeze)
        data["curriculum"] = list(self.curriculum)
        return data

    def input_hints(self) -> dict[str, Any]:
        """``snaptex.json``'s ``input`` section: how training images were prepared, so the
        app's loader (model/adapters.py) prepares snips the same way."""
        return {"preprocess": self.preprocess, "letterbox": self.letterbox,
                "anchor": self.letterbox_anchor}

    def ctc_hint(self) -> dict[str, Any] | None:
        """``snaptex.json``'s ``ctc_decoding`` section for a model trained with the CTC
        encoder loss (model/ctc_head.py), else None: CTC can only take part in the
        search with an encoder that learned to read for it."""

        args = self.trainer_args
        if not (self.trainer or "").endswith(":EncoderLossTrainer"):
            return None
        if (args.get("encoder_loss", defaults.ENCODER_LOSS) != "ctc"
                or not args.get("encoder_loss_weight", defaults.ENCODER_LOSS_WEIGHT)):
            return None
        return {"weight": DEFAULT_WEIGHT,
                "first_symbol_id": int(args.get("first_symbol_id", DEFAULT_FIRST_SYMBOL_ID))}

    @property
    def init_source(self) -> str:
        """What the weights come from, for logs and messages."""
        return f"build {self.build}" if self.build else str(self.model)


def _data_source(spec: str | dict[str, Any]) -> DataSource:
    if isinstance(spec, str):
        return DataSource(path=spec)
    if not isinstance(spec, dict) or "path" not in spec:
        raise RecipeError("each entry of 'datasets' needs a 'path' (hub id or folder)")
    _reject_unknown(DataSource, spec, "dataset entry")
    return DataSource(**spec)


def _reject_unknown(cls: type, data: dict[str, Any], what: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise RecipeError(f"unknown {what} field(s): {', '.join(unknown)}")


def _validate(recipe: Recipe) -> None:
    if not recipe.model and not recipe.build:
        raise RecipeError(f"recipe {recipe.name!r} names neither 'model' nor 'build'")
    if recipe.build and ":" not in recipe.build:
        raise RecipeError(
            f"'build' must look like 'module:function', got {recipe.build!r}"
        )
    for hook in ("collator", "trainer"):
        target = getattr(recipe, hook)
        if target and ":" not in target:
            raise RecipeError(f"{hook!r} must look like 'module:attr', got {target!r}")
    if recipe.device not in ("auto", "cpu", "cuda"):
        raise RecipeError(f"device must be auto, cpu or cuda, got {recipe.device!r}")
    if recipe.dtype not in ("auto", "bfloat16", "float16", "float32"):
        raise RecipeError(
            f"dtype must be auto, bfloat16, float16 or float32, got {recipe.dtype!r}"
        )
    if recipe.label_padding not in ("longest", "max_length"):
        raise RecipeError("label_padding must be 'longest' or 'max_length'")
    if not recipe.datasets:
        raise RecipeError(f"recipe {recipe.name!r} has no datasets")
    if recipe.letterbox_anchor not in ("center", "top-left"):
        raise RecipeError("letterbox_anchor must be 'center' or 'top-left'")
    if recipe.letterbox is not None and recipe.letterbox <= 0:
        raise RecipeError("letterbox must be a positive width/height ratio")
    for stage in recipe.curriculum:
        if set(stage) != {"steps", "max_formula_chars"} or not all(
            isinstance(v, int) and v > 0 for v in stage.values()
        ):
            raise RecipeError(
                "each curriculum stage is {\"steps\": N, \"max_formula_chars\": M}"
                f" with positive integers, not {stage!r}"
            )
    max_steps = recipe.training_args.get("max_steps")
    if recipe.curriculum and not (isinstance(max_steps, int) and max_steps > 0):
        # The Trainer re-reads a sequential dataset from its start each epoch, so an
        # epoch-counted run would replay the short-formula stages every epoch.
        raise RecipeError(
            "a recipe with a curriculum counts its run in optimiser steps:"
            " set training_args.max_steps (or --max-steps)"
        )
    if any(s.weight <= 0 for s in recipe.datasets):
        raise RecipeError("dataset weights must be positive")
    if (
        recipe.prompt is not None
        and "<start_of_image>" not in recipe.prompt
        and recipe.collator is None
    ):
        logger.warning(
            "prompt has no <start_of_image>; prompted models need one per image"
        )


# -- loading -------------------------------------------------------------------


def available_recipes() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.json"))


def recipe_path(name_or_path: str) -> Path:
    """A bundled recipe name (``t5gemma2-a100``) or a path to a JSON file."""
    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        if not path.is_file():
            raise RecipeError(f"no recipe file at {name_or_path}")
        return path
    bundled = RECIPES_DIR / f"{name_or_path}.json"
    if not bundled.is_file():
        raise RecipeError(
            f"unknown recipe {name_or_path!r}; "
            f"bundled: {', '.join(available_recipes())}"
        )
    return bundled


def read_recipe_dict(name_or_path: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """A recipe's JSON object, with what it ``extends`` merged in (:func:`extend`)."""
    path = recipe_path(name_or_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RecipeError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path} must hold a JSON object")
    data.setdefault("name", path.stem)
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    if not isinstance(base_name, str):
        raise RecipeError(f"{path}: 'extends' must name a recipe, not {base_name!r}")
    chain = (*_seen, data["name"])
    if base_name in chain:
        raise RecipeError(f"{path}: recipes extend each other in a loop "
                          f"({' -> '.join((*chain, base_name))})")
    return extend(read_recipe_dict(base_name, chain), data)


# Where a run lives and what it is called belong to one recipe: a child that inherited them
# would write its checkpoints into its base's run folder and resume from them.
OWN_KEYS = ("name", "output_dir")


def extend(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """``child`` on top of ``base`` (:func:`merge`), keeping only the child's own
    ``OWN_KEYS``."""
    return merge({k: v for k, v in base.items() if k not in OWN_KEYS}, child)


def merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Objects merge key by key; anything else (lists and ``null`` included) replaces."""
    merged = copy.deepcopy(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_recipe(name_or_path: str, overrides: dict[str, Any] | None = None) -> Recipe:
    """Read a recipe, then apply dotted-key ``overrides`` (:func:`apply_overrides`)."""
    data = read_recipe_dict(name_or_path)
    return Recipe.from_dict(apply_overrides(data, overrides or {}))


# -- overrides -----------------------------------------------------------------


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted keys set: ``training_args.max_steps=2``.

    ``datasets.0.train_rows`` addresses a list entry.
    """
    result = copy.deepcopy(data)
    for key, value in overrides.items():
        _set_dotted(result, key, value)
    return result


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    node: Any = data
    for part in parents:
        if isinstance(node, list):
            node = node[_list_index(node, part, key)]
        else:
            node = node.setdefault(part, {})
        if not isinstance(node, (dict, list)):
            raise RecipeError(f"cannot set {key!r}: {part!r} is not an object")
    if isinstance(node, list):
        node[_list_index(node, last, key)] = value
    else:
        node[last] = value


def _list_index(node: list[Any], part: str, key: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise RecipeError(f"cannot set {key!r}: no list entry {part!r}")
    return int(part)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from ``--set``; VALUE is JSON when it parses (``2``, ``true``)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise RecipeError(f"--set expects KEY=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


# -- paths -----------------------------------------------------------------------


def output_dir_of(recipe: Recipe) -> Path:
    """Where a run writes its checkpoints: ``output_dir``, else ``runs/<name>``."""
    return Path(recipe.output_dir or Path("runs") / recipe.name)


def resolve_local(path_or_id: str) -> Path | None:
    """The local folder ``path_or_id`` names, or ``None`` when it is a hub id.

    Relative paths are tried against the current directory first, then the repository
    root, so recipes can say ``../shared/data/im2latex-100k`` and still work when run
    from anywhere.
    """
    candidate = Path(path_or_id).expanduser()
    if candidate.is_absolute():
        return candidate if candidate.exists() else None
    for base in (Path.cwd(), REPO_ROOT):
        if (base / candidate).exists():
            return (base / candidate).resolve()
    return None


def looks_like_path(text: str) -> bool:
    """A string meant as a folder (so a missing one is an error, not a hub id)."""
    return text.startswith((".", "/", "~")) or text.count("/") > 1 or "\\" in text

"""Training and evaluation data: hub ids or local folders, as ``datasets`` objects.

Every source is reduced to two columns, ``image`` (PIL) and ``text`` (LaTeX), so the
collators and the evaluator never care where the pairs came from. A local folder in
the hub data set's shape (``train/ validation/ test/`` parquet files with ``image``
and ``text``, e.g. ``../shared/data/im2latex-100k``) is a drop-in for
``linxy/LaTeX_OCR`` config ``full``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from training.recipe import (
    DataSource,
    Recipe,
    RecipeError,
    looks_like_path,
    resolve_local,
)

# ``datasets`` (about 2 s to import) is imported inside the functions that use it, so
# `snaptex train --help`, `snaptex eval --help` and recipe errors answer at once.
logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
TEXT_SUFFIXES = (".tex", ".txt")


def describe_location(path: str) -> str:
    local = resolve_local(path)
    return str(local) if local else f"hub:{path}"


def load_split(source: DataSource, split: str):
    """One split of ``source`` with columns ``image`` and ``text`` only."""
    from datasets import load_dataset

    local = resolve_local(source.path)
    if local is None and looks_like_path(source.path):
        raise RecipeError(f"no data folder at {source.path}")
    try:
        if local is not None and _is_pair_folder(local):
            dataset = pair_folder_dataset(local)
        elif local is not None:
            dataset = load_dataset(str(_config_folder(local, source.name)), split=split)
        else:
            dataset = load_dataset(source.path, source.name, split=split)
    except RecipeError:
        raise
    except (FileNotFoundError, ValueError, ConnectionError, OSError) as exc:
        raise RecipeError(
            f"cannot load split {split!r} of {source.path}: {_first_line(exc)}"
        ) from None
    return _standard_columns(dataset, source)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _config_folder(folder: Path, name: str | None) -> Path:
    """A local copy may keep each hub config in a sub-folder (``full/``)."""
    if name and (folder / name).is_dir():
        return folder / name
    return folder


def _standard_columns(dataset, source: DataSource):
    from datasets import Image, Value

    missing = {source.image_column, source.text_column} - set(dataset.column_names)
    if missing:
        raise RecipeError(
            f"{source.path} lacks column(s) {', '.join(sorted(missing))}; it has "
            f"{', '.join(dataset.column_names)} (set image_column/text_column)"
        )
    dataset = dataset.select_columns([source.image_column, source.text_column])
    renames = {source.image_column: "image", source.text_column: "text"}
    dataset = dataset.rename_columns({k: v for k, v in renames.items() if k != v})
    # One feature type for every source, so several can be mixed.
    dataset = dataset.cast_column("image", Image())
    return dataset.cast_column("text", Value("string"))


def select_rows(dataset, rows: int | None, seed: int | None):
    """The tutorial's ``shuffle(seed=42).select(range(rows))``; ``None``: all rows."""
    if seed is not None:
        dataset = dataset.shuffle(seed=seed)
    if rows is None:
        return dataset
    if rows > len(dataset):
        logger.warning(
            "asked for %d rows but the split has %d; using all", rows, len(dataset)
        )
        rows = len(dataset)
    return dataset.select(range(rows))


def formula_chars(text: str) -> int:
    """A formula's length independent of tokenisation (im2latex labels are spaced out)."""
    return len("".join(text.split()))


def keep_short(dataset, max_chars: int | None):
    """Rows whose formula has at most ``max_chars`` non-space characters (``None``: all)."""
    if max_chars is None:
        return dataset
    kept = [i for i, t in enumerate(dataset["text"]) if formula_chars(t) <= max_chars]
    logger.info("data: %d of %d rows have formulas of <= %d characters",
                len(kept), len(dataset), max_chars)
    return dataset.select(kept)


def training_split(source: DataSource):
    """``source``'s training split with its formula-length limit applied."""
    return keep_short(load_split(source, source.train_split), source.max_formula_chars)


def load_train_eval(recipe: Recipe):
    """(train, eval or None) for ``recipe``: every source selected, then mixed."""
    trains, evals = [], []
    for source in recipe.datasets:
        logger.info("data: %s (%s)", source.path, describe_location(source.path))
        train = training_split(source)
        trains.append(select_rows(train, source.train_rows, source.shuffle_seed))
        if source.eval_split:
            evaluation = load_split(source, source.eval_split)
            evals.append(select_rows(evaluation, source.eval_rows, source.shuffle_seed))
    train = mix(trains, [s.weight for s in recipe.datasets], recipe.seed)
    if recipe.curriculum:
        train = with_curriculum(recipe, trains, train)
    evaluation = _concatenate(evals) if evals else None
    logger.info(
        "data: %d training rows, %s evaluation rows",
        len(train),
        len(evaluation) if evaluation is not None else "no",
    )
    return train, evaluation


def with_curriculum(recipe: Recipe, trains: list, full):
    """The curriculum's stages, in order, then as many passes of the full mix (each
    shuffled anew) as ``max_steps`` needs: read sequentially.

    A stage takes ``steps x batch size x processes`` rows of every source's short formulas in their
    natural proportions (weights would over-sample a source that has few short ones),
    repeating them if there are not enough. The order is fixed by the recipe's seed, so a
    resumed run skips exactly the batches it has trained on.

    Why several passes in one dataset: the sequential sampler re-reads the dataset from
    its start each epoch, so a dataset of one pass would replay the short-formula stages,
    and the same order, whenever a run outgrows one pass of the mix. The first pass is
    shuffled with the recipe's seed, so runs made before this change resume in step.
    """
    from datasets import concatenate_datasets

    batch = rows_per_step(recipe)
    parts = []
    for number, stage in enumerate(recipe.curriculum):
        short = _concatenate([keep_short(t, stage["max_formula_chars"]) for t in trains])
        if len(short) == 0:
            raise RecipeError(f"curriculum stage {number + 1} has no formulas that short")
        rows = stage["steps"] * batch
        order = [i % len(short) for i in range(rows)]
        parts.append(short.shuffle(seed=recipe.seed + number).select(order))
        logger.info("curriculum stage %d: %d rows of %d formulas of <= %d characters",
                    number + 1, rows, len(short), stage["max_formula_chars"])
    staged = sum(len(part) for part in parts)
    # The recipe's validation makes a curriculum run set a positive max_steps.
    passes = passes_needed(recipe.training_args["max_steps"] * batch - staged, len(full))
    logger.info("curriculum: then %d pass(es) of the full mix", passes)
    mixes = [full.shuffle(seed=recipe.seed + number) for number in range(passes)]
    return concatenate_datasets([*parts, *mixes])


def rows_per_step(recipe: Recipe) -> int:
    """Rows in one optimiser step: under torchrun every process takes a batch."""
    args = recipe.training_args
    return (args.get("per_device_train_batch_size", 8) * world_size()
            * args.get("gradient_accumulation_steps", 1))


def passes_needed(rows: int, mix_rows: int) -> int:
    """Passes of a ``mix_rows`` mix that cover ``rows`` rows, at least one (the
    curriculum's stages may already fill ``max_steps``)."""
    return max(1, -(-rows // mix_rows)) if mix_rows else 1


def world_size() -> int:
    """Processes training together (torchrun/accelerate set WORLD_SIZE), 1 alone."""
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


def mix(datasets: list, weights: list[float], seed: int):
    """One source as is; several interleaved by weight until every one is used up."""
    from datasets import interleave_datasets

    if len(datasets) == 1:
        return datasets[0]
    total = sum(weights)
    return interleave_datasets(
        datasets,
        probabilities=[w / total for w in weights],
        seed=seed,
        stopping_strategy="all_exhausted",
    )


def _concatenate(datasets: list):
    from datasets import concatenate_datasets

    return datasets[0] if len(datasets) == 1 else concatenate_datasets(datasets)


# -- a folder of pairs (for evaluation on your own snips) ---------------------------


def _is_pair_folder(folder: Path) -> bool:
    return folder.is_dir() and any(
        p.suffix.lower() in IMAGE_SUFFIXES and _label_file(p) for p in folder.iterdir()
    )


def _label_file(image: Path) -> Path | None:
    for suffix in TEXT_SUFFIXES:
        candidate = image.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def pair_folder_dataset(folder: Path):
    """``name.png`` + ``name.tex`` (or ``.txt``) pairs as a data set, sorted by name."""
    from datasets import Dataset, Image

    from model.errors import SnapTexError
    from model.images import check_image_file

    images, texts = [], []
    for image in sorted(folder.iterdir()):
        label = _label_file(image) if image.suffix.lower() in IMAGE_SUFFIXES else None
        if label is None:
            continue
        try:  # a bad file is refused here, not as a traceback in the middle of a run
            check_image_file(str(image))
        except SnapTexError as exc:
            logger.warning("%s: %s (skipped)", image, exc)
            continue
        images.append(str(image))
        texts.append(label.read_text(encoding="utf-8").strip())
    logger.info("%s: %d image/LaTeX pairs", folder, len(images))
    dataset = Dataset.from_dict({"image": images, "text": texts})
    return dataset.cast_column("image", Image())

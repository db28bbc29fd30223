"""Which formulas get rendered: reading the lists, filtering, de-duplicating, holding
out the evaluation set, and mixing sources by weight into a reproducible plan."""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

FORMULA_FILE = "formulas.txt"
DEFAULT_MAX_CHARS = 400
DEFAULT_MIN_CHARS = 2


@dataclass(frozen=True)
class Source:
    """A formula list and its share of the rendered set (None = by size)."""

    name: str
    path: Path
    weight: float | None = None


def formula_key(formula: str) -> str:
    """Spacing-insensitive identity: `\\frac { a } { b }` and `\\frac{a}{b}` are one
    formula
    (im2latex and pix2tex labels are space-tokenised, the others are not)."""
    return "".join(formula.split())


def parse_source(spec: str) -> list[Source]:
    """`PATH[:WEIGHT]` -> sources. PATH is a formula file, a folder holding
    formulas.txt, or a folder of such folders (one source each)."""
    path_text, _, weight_text = (
        spec.rpartition(":") if _has_weight(spec) else (spec, "", "")
    )
    weight = float(weight_text) if weight_text else None
    path = Path(path_text)
    if path.is_file():
        name = path.parent.name if path.name == FORMULA_FILE else path.stem
        return [Source(name, path, weight)]
    if (path / FORMULA_FILE).is_file():
        return [Source(path.name, path / FORMULA_FILE, weight)]
    children = (
        sorted(p for p in path.glob(f"*/{FORMULA_FILE}")) if path.is_dir() else []
    )
    if not children:
        raise ValueError(
            f"no formula list at {path} (expected a file or a folder with "
            f"{FORMULA_FILE})"
        )
    return [Source(child.parent.name, child, weight) for child in children]


def _has_weight(spec: str) -> bool:
    head, sep, tail = spec.rpartition(":")
    try:
        float(tail)
    except ValueError:
        return False
    return bool(sep and head)


def read_formulas(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def read_texts(path: Path) -> list[str]:
    """The formulas of a split: the ``text`` column of its parquet files (a folder, searched
    recursively, or one file), or the lines of a text file."""
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    texts: list[str] = []
    for file in files:
        if file.suffix == ".parquet":
            import pyarrow.parquet as pq  # the [train] extra (with datasets)

            texts += pq.read_table(file, columns=["text"]).column("text").to_pylist()
        else:
            texts += read_formulas(file)
    return texts


def read_excluded_keys(paths: list[Path]) -> set[str]:
    """Formula keys of an evaluation split (parquet files/folders with a `text` column,
    or text files) that must never appear in training images."""
    return {formula_key(text) for path in paths for text in read_texts(path) if text}


def skip_reason(formula: str, min_chars: int, max_chars: int) -> str | None:
    """Why a formula is left out by length, or None to keep it."""
    size = len(formula_key(formula))
    if size < min_chars:
        return "too short"
    if len(formula) > max_chars:
        return "too long"
    return None


@dataclass
class Selection:
    formulas: dict[str, list[str]]  # source name -> usable formulas, in file order
    skipped: dict[str, dict[str, int]]  # source name -> reason -> count


def select_formulas(
    sources: list[Source],
    excluded: set[str],
    min_chars: int = DEFAULT_MIN_CHARS,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> Selection:
    """Filter by length, drop evaluation formulas and duplicates (across sources too:
    the first source listed keeps a formula)."""
    seen: set[str] = set()
    selection = Selection({}, {})
    for source in sources:
        kept, skipped = (
            [],
            {"too short": 0, "too long": 0, "in evaluation set": 0, "duplicate": 0},
        )
        for formula in read_formulas(source.path):
            key = formula_key(formula)
            reason = skip_reason(formula, min_chars, max_chars)
            if reason is None and key in excluded:
                reason = "in evaluation set"
            elif reason is None and key in seen:
                reason = "duplicate"
            if reason:
                skipped[reason] += 1
                continue
            seen.add(key)
            kept.append(formula)
        selection.formulas[source.name] = kept
        selection.skipped[source.name] = skipped
    return selection


def quotas(
    sizes: dict[str, int], weights: dict[str, float | None], count: int
) -> dict[str, int]:
    """Images per source: by weight if given for all, else proportional to size.
    Largest remainders make the quotas add up to ``count`` exactly."""
    named = {name: w for name, w in weights.items() if w is not None}
    if named and len(named) != len(weights):
        raise ValueError("give a weight to every formula source or to none")
    shares = {
        name: float(named[name] if named else sizes[name])
        for name in sizes
        if sizes[name] > 0
    }
    total = sum(shares.values())
    if total <= 0:
        raise ValueError("no usable formulas in the given sources")
    exact = {name: count * share / total for name, share in shares.items()}
    result = {name: int(value) for name, value in exact.items()}
    by_remainder = sorted(exact, key=lambda n: exact[n] - result[n], reverse=True)
    for name in by_remainder[: count - sum(result.values())]:
        result[name] += 1
    return result


def take(formulas: list[str], quota: int, rng: random.Random) -> list[str]:
    """``quota`` formulas: a random subset, or every formula repeated in fresh shuffles
    when the list is shorter (each repeat gets its own look when rendered)."""
    chosen: list[str] = []
    while len(chosen) < quota:
        round_ = list(formulas)
        rng.shuffle(round_)
        chosen.extend(round_[: quota - len(chosen)])
    return chosen


def mix(
    selection: Selection, weights: dict[str, float | None], count: int, seed: int
) -> list[tuple[str, str]]:
    """The render plan: ``count`` (source, formula) pairs, shuffled, reproducible."""
    rng = random.Random(f"mix:{seed}")
    sizes = {name: len(formulas) for name, formulas in selection.formulas.items()}
    plan = [
        (name, formula)
        for name, quota in quotas(sizes, weights, count).items()
        for formula in take(selection.formulas[name], quota, rng)
    ]
    rng.shuffle(plan)
    return plan


def is_validation(formula: str, fraction: float) -> bool:
    """Stable split by formula, so a formula's repeats never straddle train and
    validation, and the split does not move when the plan grows."""
    digest = hashlib.sha1(formula_key(formula).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction

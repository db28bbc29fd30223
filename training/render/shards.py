"""Shards of a render: the settings they depend on, the plan split into shards, and
the worker function that renders and writes one shard."""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from training.render.formulas import is_validation
from training.render.latex import Item, render_batch
from training.render.style import (
    FONT_WEIGHTS,
    finish_image,
    png_bytes,
    sample_batch_style,
    sample_item_style,
    theme_weights,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """Everything the images depend on; a resumed run must match it exactly."""

    sources: list[dict]
    excluded: list[str]
    count: int
    seed: int
    dpi_range: tuple[int, int]
    themes: list[str]
    fonts: list[str]
    validation_fraction: float
    min_chars: int
    max_chars: int
    shard_size: int
    batch_size: int

    def as_json(self) -> dict:
        return json.loads(json.dumps(asdict(self)))  # tuples -> lists, as stored


@dataclass(frozen=True)
class ShardTask:
    split: str
    number: int
    items: list[tuple[str, str]]  # (source name, formula)
    settings: Settings
    out: str

    @property
    def name(self) -> str:
        return f"{self.split}/{self.number:05d}.parquet"


def plan_shards(
    plan: list[tuple[str, str]], settings: Settings, out: Path
) -> list[ShardTask]:
    """Split the plan into train/validation shards, interleaved so that both splits
    have data early in a run."""
    by_split: dict[str, list[tuple[str, str]]] = {"train": [], "validation": []}
    for source, formula in plan:
        split = (
            "validation"
            if is_validation(formula, settings.validation_fraction)
            else "train"
        )
        by_split[split].append((source, formula))
    tasks = [
        ShardTask(
            split,
            start // settings.shard_size,
            items[start : start + settings.shard_size],
            settings,
            str(out),
        )
        for split, items in by_split.items()
        for start in range(0, len(items), settings.shard_size)
    ]
    return sorted(tasks, key=lambda task: (task.number, task.split))


def _render_rows(
    task: ShardTask,
    number: int,
    items: list[tuple[str, str]],
    rows: dict,
    failures: list[dict],
) -> int:
    """Render one LaTeX batch of a shard into ``rows``; returns the LaTeX runs used."""
    settings = task.settings
    rng = random.Random(f"{settings.seed}:{task.split}:{task.number}:{number}")
    fonts = {name: FONT_WEIGHTS[name] for name in settings.fonts}
    batch = sample_batch_style(rng, tuple(settings.dpi_range), fonts)
    themes = theme_weights(settings.themes)
    styled = [
        Item(i, formula, sample_item_style(rng, batch.dpi, themes))
        for i, (_, formula) in enumerate(items)
    ]
    result = render_batch(styled, batch)
    for item in styled:  # batch order: the shard's row order is reproducible
        if item.index in result.images:
            image = finish_image(result.images[item.index], item.style)
            rows["image"].append({"bytes": png_bytes(image), "path": None})
            rows["text"].append(item.formula)
        else:
            failures.append(
                {
                    "shard": task.name,
                    "source": items[item.index][0],
                    "formula": item.formula,
                    "reason": result.failures[item.index],
                }
            )
    return result.latex_runs


def write_shard(rows: dict, path: Path) -> None:
    """Write parquet with the Hugging Face Image feature, atomically (via a hidden
    temporary name that load_dataset ignores)."""
    # datasets takes ~2 s to import: `snaptex render --help` and the plan need none of it.
    from datasets import Dataset, Features, Image, Value, disable_progress_bars

    disable_progress_bars()  # a bar per shard would bury the progress log
    features = Features({"image": Image(), "text": Value("string")})
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    Dataset.from_dict(rows, features=features).to_parquet(str(temporary))
    temporary.replace(path)


def render_shard(task: ShardTask) -> dict:
    """Worker entry point: render and write one shard, return its record."""
    started = time.monotonic()
    rows: dict[str, list] = {"image": [], "text": []}
    failures: list[dict] = []
    size = task.settings.batch_size
    runs = sum(
        _render_rows(task, n, task.items[start : start + size], rows, failures)
        for n, start in enumerate(range(0, len(task.items), size))
    )
    write_shard(rows, Path(task.out) / task.name)
    return {
        "name": task.name,
        "planned": len(task.items),
        "rows": len(rows["text"]),
        "failed": len(failures),
        "latex_runs": runs,
        "seconds": round(time.monotonic() - started, 2),
        "failures": failures,
    }

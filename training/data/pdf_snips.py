"""`python -m training.data.pdf_snips --out DIR --count N`: training images made the way
the PDF-snip dev set is made, from the formulas the dev set never draws.

The dev set (``training.data.devset``) typesets display equations with pdflatex and
rasterises the PDF with poppler, as a PDF viewer does; ``snaptex render`` uses latex +
dvipng, whose anti-aliasing and glyph shapes differ a little, and its formula lists are
mostly short fragments. This builder closes both gaps for training: the same typesetting
and rasteriser as the dev set, formulas from the renderer's *train* hash split (every
source, im2latex's formula list included, the im2latex test split excluded) drawn so their
lengths follow a real split's (``--lengths-like``), and the look of a snip (fonts, DPI,
loose crops, themes) plus the blur and JPEG noise of a screenshot passed around.

Writes parquet shards in the hub layout, ``DIR/train/NNNNN.parquet`` with ``image``
(PNG bytes) and ``text`` columns, so a recipe names ``DIR`` like any data set. Shards are
written as they finish and a rerun skips the shards already there; the same ``--seed``
gives the same images.

``--look im2latex`` draws the same formulas in im2latex-100k's own look instead
(:mod:`training.data.im2latex_look`: Computer Modern 10 pt, 200 DPI halved, black on white).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from multiprocessing import Pool
from pathlib import Path

from PIL import Image

from training.data import im2latex_look
from training.data.devset import (
    DPI_RANGE,
    FONTS,
    LONG_MAX_CHARS,
    SHARED,
    length_shares,
    match_lengths,
    render_group,
    render_in_im2latex_look,
    split_formulas,
    theme_name,
)
from training.render.formulas import read_excluded_keys, read_texts
from training.render.shards import write_shard
from training.render.style import (
    BatchStyle,
    ItemStyle,
    finish_image,
    png_bytes,
    sample_margins,
    sample_theme,
)

logger = logging.getLogger(__name__)

SOURCES = ("im2latex_100k", "stacks_project", "math_competition", "wikipedia_pix2tex")
# A little wider than the dev set's band: a model that has seen 80 and 220 DPI is steadier
# at 96 and 192.
TRAIN_DPI_RANGE = (DPI_RANGE[0] - 16, DPI_RANGE[1] + 28)
BLUR_PROBABILITY, JPEG_PROBABILITY = 0.15, 0.15
GROUP = 40  # formulas per pdflatex run (the dev set's batch)
SETTINGS_FILE = "pdf_snips.json"
LOOKS = ("pdf-snip", im2latex_look.NAME)


def training_formulas(formulas_dir: Path, excluded: set[str], seed: int) -> list[tuple[str, str]]:
    """(source, formula) pairs of the renderer's train hash split, not in ``excluded``,
    of display length, each formula once, shuffled by ``seed``."""
    return split_formulas(formulas_dir, SOURCES, excluded, validation=False,
                          max_chars=LONG_MAX_CHARS, order=f"pdf-snips:{seed}")


def _item_style(rng: random.Random, dpi: int) -> ItemStyle:
    theme = sample_theme(rng, theme_name(rng))
    blur = rng.uniform(0.3, 0.8) if rng.random() < BLUR_PROBABILITY else 0.0
    jpeg = rng.randint(60, 92) if rng.random() < JPEG_PROBABILITY else 0
    return ItemStyle("normalsize", True, theme, sample_margins(rng, dpi), blur, jpeg)


def shard_path(out: str | Path, number: int) -> Path:
    return Path(out) / "train" / f"{number:05d}.parquet"


def _pdf_snip_group(rng: random.Random, group: list[str]) -> list[Image.Image | None]:
    """A group typeset in one of the dev set's fonts, each at its own DPI, finished as a
    snip (margins, theme, blur, JPEG)."""
    batch = BatchStyle(font=rng.choice(FONTS), points=rng.choice((10, 11, 12)), dpi=0)
    dpis = [rng.randint(*TRAIN_DPI_RANGE) for _ in group]
    return [None if grey is None else finish_image(grey, _item_style(rng, dpi))
            for dpi, grey in zip(dpis, render_group(group, batch, dpis), strict=True)]


def _im2latex_group(_rng: random.Random, group: list[str]) -> list[Image.Image | None]:
    return render_in_im2latex_look(group)


RENDERERS = {"pdf-snip": _pdf_snip_group, im2latex_look.NAME: _im2latex_group}


def render_shard(task: tuple[int, list[tuple[str, str]], int, str, str]) -> int:
    """Render one shard's formulas and write its parquet file; returns rows written."""
    number, items, seed, out, look = task
    rng = random.Random(f"pdf-snips-style:{seed}:{number}")
    rows: dict[str, list] = {"image": [], "text": []}
    for start in range(0, len(items), GROUP):
        group = [formula for _, formula in items[start : start + GROUP]]
        for formula, image in zip(group, RENDERERS[look](rng, group), strict=True):
            if image is None:
                continue
            rows["image"].append({"bytes": png_bytes(image), "path": None})
            rows["text"].append(formula)
    path = shard_path(out, number)
    write_shard(rows, path)  # atomic: a shard is there whole or not at all, so a rerun trusts it
    logger.info("%s: %d images", path.name, len(rows["text"]))
    return len(rows["text"])


def plan(args: argparse.Namespace) -> list[tuple[int, list[tuple[str, str]], int, str, str]]:
    excluded = read_excluded_keys([p for p in args.exclude if p.exists()])
    pool = training_formulas(args.formulas, excluded, args.seed)
    if args.lengths_like is not None:
        texts = read_texts(args.lengths_like)
        if not texts:
            raise FileNotFoundError(f"no formulas in {args.lengths_like}")
        pool = match_lengths(pool, length_shares(texts), args.count)
    pool = pool[: args.count]
    return [
        (start // args.shard_size, pool[start : start + args.shard_size], args.seed,
         str(args.out), args.look)
        for start in range(0, len(pool), args.shard_size)
    ]


def _check_settings(out: Path, settings: dict) -> str | None:
    """A resumed build must make the same images; None when it may go on."""
    path = out / SETTINGS_FILE
    if path.exists() and json.loads(path.read_text(encoding="utf-8")) != settings:
        return f"{out} holds a build with other settings ({path}); pick another --out"
    out.joinpath("train").mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.data.pdf_snips",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True, help="formulas to typeset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, choices=(1, 2, 3, 4))
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--formulas", type=Path, default=SHARED / "formulas")
    parser.add_argument("--exclude", type=Path, nargs="*",
                        default=[SHARED / "im2latex-100k" / "test"],
                        help="evaluation splits whose formulas are never typeset")
    parser.add_argument("--lengths-like", type=Path, default=None, metavar="SPLIT",
                        help="draw formulas whose lengths follow this parquet split's "
                        "(e.g. ../shared/data/im2latex-100k/validation)")
    parser.add_argument("--look", choices=LOOKS, default="pdf-snip",
                        help="PDF snips in the dev set's styles (default), or "
                        "im2latex-100k's own look")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.count <= 0 or args.shard_size <= 0:
        print("--count and --shard-size must be positive", file=sys.stderr)
        return 2
    settings = {"count": args.count, "seed": args.seed, "shard_size": args.shard_size,
                "lengths_like": str(args.lengths_like), "dpi_range": TRAIN_DPI_RANGE,
                "exclude": sorted(str(p) for p in args.exclude)}
    if args.look != "pdf-snip":  # older builds' settings files name no look
        settings["look"] = args.look
    settings = json.loads(json.dumps(settings))  # tuples as lists, as stored
    problem = _check_settings(args.out, settings)
    if problem:
        print(f"pdf_snips: {problem}", file=sys.stderr)
        return 2
    try:
        tasks = plan(args)
    except FileNotFoundError as exc:
        print(f"pdf_snips: {exc}", file=sys.stderr)
        return 2
    todo = [task for task in tasks if not shard_path(args.out, task[0]).exists()]
    logger.info("%d shards planned, %d to render", len(tasks), len(todo))
    if args.workers == 1:
        written = sum(map(render_shard, todo))
    else:
        with Pool(args.workers) as workers:
            written = sum(workers.imap_unordered(render_shard, todo))
    print(json.dumps({"out": str(args.out), "shards": len(tasks), "rendered": written}))
    return 0 if tasks else 1


if __name__ == "__main__":
    sys.exit(main())

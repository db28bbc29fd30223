"""`snaptex render`: turn formula lists into training images with real LaTeX.

Output folder (readable with ``datasets.load_dataset(OUT)``, like im2latex-100k):

    OUT/train/00000.parquet ...       columns image ({"bytes": PNG, "path": None}), text
    OUT/validation/00000.parquet ...  formulas held out by hash (--validation-fraction)
    OUT/manifest.json                 settings, counts, failures, seconds, throughput
    OUT/failures.jsonl                {"shard", "source", "formula", "reason"} a line

Shards appear one by one (written under a hidden temporary name, then renamed), so a
run that is still going, or was stopped, is already usable; running the same command
again resumes at the first missing shard. Every shard is a pure function of the
settings and --seed, so a resumed run produces the same images as an unbroken one.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import sys
import time
from pathlib import Path

from training.command import missing_extra
from training.render.formulas import (
    DEFAULT_MAX_CHARS,
    DEFAULT_MIN_CHARS,
    Source,
    mix,
    parse_source,
    read_excluded_keys,
    select_formulas,
)
from training.render.latex import FONT_PACKAGES, tools_missing
from training.render.manifest import FAILURES, MANIFEST, Manifest
from training.render.shards import Settings, ShardTask, plan_shards, render_shard
from training.render.style import DEFAULT_DPI_RANGE, FONT_WEIGHTS, THEME_WEIGHTS, THEMES

logger = logging.getLogger(__name__)

MAX_WORKERS = 2  # the machine is shared: rendering must leave room for training
# The held-out im2latex test split, next to the project (see ../shared/data/README.md).
DEFAULT_EXCLUDE = (
    Path(__file__).resolve().parents[2].parent / "shared/data/im2latex-100k/test"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snaptex render",
        description="Render LaTeX formula lists to training images (parquet shards) "
        "with "
        "real LaTeX + dvipng, in several fonts, sizes, DPIs and themes.",
    )
    parser.add_argument(
        "--formulas",
        nargs="+",
        required=True,
        metavar="PATH[:WEIGHT]",
        help="formula file, folder with formulas.txt, or folder of such "
        "folders; optional :WEIGHT (give all or none; default: by size)",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--count", type=int, required=True, help="formulas to render")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--themes", nargs="+", default=list(THEME_WEIGHTS), choices=THEMES
    )
    parser.add_argument(
        "--fonts", nargs="+", default=list(FONT_WEIGHTS), choices=list(FONT_PACKAGES)
    )
    parser.add_argument(
        "--dpi-range",
        nargs=2,
        type=int,
        default=list(DEFAULT_DPI_RANGE),
        metavar=("LOW", "HIGH"),
    )
    parser.add_argument("--workers", type=int, default=1, help=f"1..{MAX_WORKERS}")
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=0.02,
        help="share of formulas (by hash) written to validation/",
    )
    parser.add_argument(
        "--min-chars",
        type=int,
        default=DEFAULT_MIN_CHARS,
        help="skip formulas with fewer non-space characters",
    )
    parser.add_argument(
        "--max-chars", type=int, default=DEFAULT_MAX_CHARS, help="skip longer formulas"
    )
    parser.add_argument(
        "--exclude",
        nargs="*",
        type=Path,
        default=None,
        help="evaluation splits (parquet with `text`, or text files) whose "
        f"formulas are never rendered; default: {DEFAULT_EXCLUDE} "
        "if it exists; pass --exclude alone for none",
    )
    parser.add_argument("--shard-size", type=int, default=2000)
    parser.add_argument(
        "--batch-size", type=int, default=200, help="formulas per LaTeX run"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh even if --out holds another render",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def _check_args(args: argparse.Namespace) -> str | None:
    low, high = args.dpi_range
    checks = [
        (args.count > 0, "--count must be positive"),
        (1 <= args.workers <= MAX_WORKERS, f"--workers must be 1..{MAX_WORKERS}"),
        (30 <= low <= high <= 1200, "--dpi-range needs 30 <= LOW <= HIGH <= 1200"),
        (0 <= args.validation_fraction < 1, "--validation-fraction must be in [0, 1)"),
        (args.shard_size > 0 and args.batch_size > 0, "sizes must be positive"),
    ]
    return next((message for ok, message in checks if not ok), None)


def _settings(
    args: argparse.Namespace, sources: list[Source], excluded: list[Path]
) -> Settings:
    return Settings(
        sources=[
            {"name": s.name, "path": str(s.path.resolve()), "weight": s.weight}
            for s in sources
        ],
        excluded=[str(p.resolve()) for p in excluded],
        count=args.count,
        seed=args.seed,
        dpi_range=tuple(args.dpi_range),
        themes=list(args.themes),
        fonts=list(args.fonts),
        validation_fraction=args.validation_fraction,
        min_chars=args.min_chars,
        max_chars=args.max_chars,
        shard_size=args.shard_size,
        batch_size=args.batch_size,
    )


def prepare(args: argparse.Namespace) -> tuple[Settings, dict, list[ShardTask]]:
    """Sources -> filtered selection -> weighted plan -> shard tasks."""
    sources = [source for spec in args.formulas for source in parse_source(spec)]
    if len({s.name for s in sources}) != len(sources):
        raise ValueError("two formula sources share a name; pass each folder once")
    excluded = (
        ([DEFAULT_EXCLUDE] if DEFAULT_EXCLUDE.exists() else [])
        if args.exclude is None
        else args.exclude
    )
    selection = select_formulas(
        sources, read_excluded_keys(excluded), args.min_chars, args.max_chars
    )
    settings = _settings(args, sources, excluded)
    plan = mix(selection, {s.name: s.weight for s in sources}, args.count, args.seed)
    planned = {
        name: sum(1 for source, _ in plan if source == name)
        for name in selection.formulas
    }
    summary = {
        name: {
            "usable": len(formulas),
            "planned": planned[name],
            "skipped": selection.skipped[name],
        }
        for name, formulas in selection.formulas.items()
    }
    return settings, summary, plan_shards(plan, settings, args.out)


def _progress(
    manifest: Manifest, record: dict, total: int, started: float, done_now: int
) -> None:
    splits = manifest.totals()
    planned = sum(s["planned"] for s in splits.values())
    rate = done_now / max(time.monotonic() - started, 1e-6)
    eta = (total - planned) / rate / 60 if rate else float("nan")
    logger.info(
        "%s: %d/%d images, %d failed, %.1f s | %d/%d formulas, %.1f formulas/s, "
        "ETA %.0f min",
        record["name"],
        record["rows"],
        record["planned"],
        record["failed"],
        record["seconds"],
        planned,
        total,
        rate,
        eta,
    )


def run(args: argparse.Namespace) -> Manifest:
    settings, summary, tasks = prepare(args)
    if args.overwrite:  # old shards would otherwise mix into the new data set
        for old in [
            *args.out.glob("*/*.parquet"),
            args.out / MANIFEST,
            args.out / FAILURES,
        ]:
            old.unlink(missing_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(args.out, settings, summary)
    todo = [task for task in tasks if not manifest.done(task.name)]
    logger.info(
        "%d shards planned, %d to render (%d formulas), %d worker(s)",
        len(tasks),
        len(todo),
        sum(len(t.items) for t in todo),
        args.workers,
    )
    started, last, done_now = time.monotonic(), time.monotonic(), 0
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        for record in pool.imap_unordered(render_shard, todo):
            now = time.monotonic()
            done_now += record["planned"]
            manifest.add(record, (now - last))
            last = now
            _progress(manifest, record, settings.count, started, done_now)
    manifest.save(complete=True)
    return manifest


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    problem = _check_args(args)
    missing = tools_missing()
    if missing:
        problem = (
            f"{' and '.join(missing)} not found: install texlive-latex-base "
            "texlive-latex-recommended texlive-fonts-recommended dvipng"
        )
    if problem:
        print(f"snaptex render: {problem}", file=sys.stderr)
        return 2
    try:
        manifest = run(args)
    except (ValueError, OSError, RuntimeError) as error:
        print(f"snaptex render: {error}", file=sys.stderr)
        return 1
    except ImportError as error:
        message = missing_extra(error)
        if message is None:
            raise
        print(f"snaptex render: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("snaptex render: stopped; rerun the command to resume", file=sys.stderr)
        return 130
    data = manifest.data
    print(
        json.dumps(
            {
                "out": str(args.out),
                "splits": data["splits"],
                "failed": data["failed"],
                "seconds": data["seconds"],
                "formulas_per_second": data["formulas_per_second"],
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

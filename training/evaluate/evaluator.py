"""``snaptex eval``: score any model the app can load on image/LaTeX pairs.

The model goes through :func:`model.loading.load_recognizer` and
``Recognizer.recognize``, the app's own path (pre-processing, generation, clean-up), so
the numbers describe what a user gets. Data: a hub id, a local data-set folder (the
im2latex parquet shape) or a folder of ``name.png`` + ``name.tex`` pairs.

Examples::

    snaptex eval --model runs/t5gemma2-a100 --limit 200
    snaptex eval --compare model/bundled runs/my-run --split validation --limit 100
    snaptex eval --model runs/t5gemma2-a100 --seed-settings --limit 200   # as the tutorial
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.decoding_flags import add_decoding_arguments, options_from_args
from model.errors import SnapTexError
from model.exit_codes import EXIT_INPUT_FAILED, EXIT_OK
from training.data.sources import describe_location, load_split, select_rows
from training.evaluate.metrics import (
    edit_distance,
    prediction_tokens,
    reference_tokens,
    score_tokens,
)
from training.recipe import DataSource, RecipeError

logger = logging.getLogger(__name__)

DEFAULT_DATA = "../shared/data/im2latex-100k"
# Below the app's 512: im2latex labels fit, and a looping model costs half the time.
DEFAULT_MAX_NEW_TOKENS = 256


@dataclass(frozen=True)
class Example:
    index: int
    reference: str
    prediction: str
    latency_ms: float
    error: str | None = None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snaptex eval", description="Evaluate one model, or two side by side."
    )
    add = parser.add_argument
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--model", help="model folder or hub id (default: the bundled model)"
    )
    which.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="two models on the same examples, side by side",
    )
    add(
        "--data",
        default=DEFAULT_DATA,
        help="hub id, data-set folder or folder of image/.tex pairs "
        f"(default {DEFAULT_DATA})",
    )
    add("--config", help="hub config of --data (e.g. full)")
    add("--split", default="test", help="split to score (default test)")
    add("--limit", type=int, help="score only N examples (quick runs)")
    add(
        "--shuffle-seed",
        type=int,
        help="sample the N examples at random with this seed",
    )
    add("--image-column", default="image")
    add("--text-column", default="text")
    add("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    add("--dtype", default="auto", help="auto (default), float32, bfloat16, float16")
    add("--threads", type=int, help="CPU threads (default: physical cores)")
    add_decoding_arguments(parser, max_new_tokens=DEFAULT_MAX_NEW_TOKENS)
    add(
        "--worst",
        type=int,
        default=10,
        help="how many worst examples to keep (default 10)",
    )
    add("--output", default="eval-report.json", help="where to write the JSON report")
    return parser


def load_examples(args: argparse.Namespace):
    source = DataSource(
        path=args.data,
        name=args.config,
        image_column=args.image_column,
        text_column=args.text_column,
        shuffle_seed=args.shuffle_seed,
    )
    dataset = load_split(source, args.split)
    return select_rows(dataset, args.limit, args.shuffle_seed)


def inference_options(args: argparse.Namespace):
    """The decoding flags, shared with ``snaptex ocr`` (model/decoding_flags.py)."""
    try:
        return options_from_args(args)
    except ValueError as exc:
        raise RecipeError(str(exc)) from None


def check_models(models: list[str | None]) -> None:
    """Every model named exists before the first one loads (a typo in the second of
    ``--compare`` must not cost the first one's whole evaluation)."""
    from model.loading import resolve_model

    for model in models:
        resolve_model(model)


def run_model(recognizer, dataset, options) -> list[Example]:
    """One ``recognize`` call per image: latency is what a user waits for one snip."""
    warm_up(recognizer, dataset[0]["image"], options)
    examples = []
    for index, row in enumerate(dataset):
        started = time.perf_counter()
        try:
            prediction, error = recognizer.recognize(row["image"], options).latex, None
        except SnapTexError as exc:  # a bad image scores as an empty answer
            prediction, error = "", str(exc)
        latency = (time.perf_counter() - started) * 1e3
        examples.append(
            Example(index, row["text"], prediction, round(latency, 1), error)
        )
        logger.debug("%d: %.0f ms %s", index, latency, prediction[:60])
    return examples


def warm_up(recognizer, image, options) -> None:
    """One untimed call: lazy initialisation must not land in the first latency."""
    started = time.perf_counter()
    try:
        recognizer.recognize(image, options)
    except SnapTexError:
        return
    logger.info("warm-up: %.0f ms", (time.perf_counter() - started) * 1e3)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation, so it is a latency that happened)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def report_of(examples: list[Example], worst: int) -> dict[str, Any]:
    """Scores, latency and the worst examples (highest edit distance first)."""
    predicted = [prediction_tokens(e.prediction) for e in examples]
    references = [reference_tokens(e.reference) for e in examples]
    pairs = list(zip(predicted, references, strict=True))
    distances = [edit_distance(p, r) for p, r in pairs]
    latencies = [e.latency_ms for e in examples]
    ranked = sorted(range(len(examples)), key=lambda i: (-distances[i], i))[:worst]
    return {
        "metrics": score_tokens(predicted, references).to_dict(),
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "mean": round(sum(latencies) / max(len(latencies), 1), 1),
        },
        "failures": sum(e.error is not None for e in examples),
        "worst": [
            {
                "index": examples[i].index,
                "edit_distance": round(distances[i], 4),
                "reference": examples[i].reference,
                "prediction": examples[i].prediction,
                **({"error": examples[i].error} if examples[i].error else {}),
            }
            for i in ranked
        ],
        "edit_distances": [round(d, 4) for d in distances],  # per example, in order
    }


def head_to_head(first: dict[str, Any], second: dict[str, Any]) -> dict[str, int]:
    """Per-example wins by edit distance: a mean can hide that B loses most examples."""
    pairs = list(zip(first["edit_distances"], second["edit_distances"], strict=True))
    return {
        "first_better": sum(a < b for a, b in pairs),
        "second_better": sum(b < a for a, b in pairs),
        "ties": sum(a == b for a, b in pairs),
    }


def evaluate_model(model: str | None, dataset, options, args) -> dict[str, Any]:
    from model.loading import load_recognizer

    recognizer = load_recognizer(
        model, device=args.device, dtype=args.dtype, threads=args.threads
    )
    info = recognizer.info
    logger.info("scoring %s on %d examples", info.name, len(dataset))
    report = report_of(run_model(recognizer, dataset, options), args.worst)
    model_info = {
        "name": info.name,
        "path": info.path,
        "model_type": info.model_type,
        "device": info.device,
        "dtype": info.dtype,
        "load_s": info.load_s,
        "ctc_weight": recognizer.ctc_weight(options),  # the one it decoded with
    }
    return {"model": model_info, **report}


ROWS = (
    ("BLEU-4", "bleu", "higher"),
    ("edit distance", "edit_distance", "lower"),
    ("exact match", "exact_match", "higher"),
    ("empty", "empty_share", "lower"),
)


def table(reports: list[dict[str, Any]]) -> str:
    """A plain-text table, one column per model."""
    names = [r["model"]["name"][:24] for r in reports]
    lines = [f"{'':<16}" + "".join(f"{n:>26}" for n in names)]
    for label, key, better in ROWS:
        cells = "".join(f"{r['metrics'][key]:>26.4f}" for r in reports)
        lines.append(f"{label:<16}{cells}   ({better} is better)")
    for pct in ("p50", "p95"):
        cells = "".join(f"{r['latency_ms'][pct]:>23.0f} ms" for r in reports)
        lines.append(f"{'latency ' + pct:<16}{cells}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    options = inference_options(args)
    models = args.compare or [args.model]
    check_models(models)
    dataset = load_examples(args)
    if len(dataset) == 0:
        raise RecipeError(f"split {args.split!r} of {args.data} has no examples")
    reports = [evaluate_model(m, dataset, options, args) for m in models]
    document = {
        "command": "snaptex eval " + shlex.join(args.argv),
        "data": {
            "source": describe_location(args.data),
            "config": args.config,
            "split": args.split,
            "examples": len(dataset),
            "shuffle_seed": args.shuffle_seed,
        },
        "options": options.to_dict(),
        "reports": reports,
    }
    if len(reports) == 2:
        document["head_to_head"] = head_to_head(*reports)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    print(f"{len(dataset)} examples from {args.data} [{args.split}]")
    print(table(reports))
    if "head_to_head" in document:
        wins = document["head_to_head"]
        print(
            f"per example: first better {wins['first_better']}, "
            f"second better {wins['second_better']}, ties {wins['ties']}"
        )
    print(f"report: {output}")
    failures = sum(report["failures"] for report in reports)
    if failures:
        print(f"{failures} examples could not be read (scored as empty)", file=sys.stderr)
    return EXIT_INPUT_FAILED if failures else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    from training.command import guarded, setup_logging

    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.argv = argv  # recorded in the report, so a model card can say how to rerun it
    setup_logging()
    return guarded("snaptex eval", lambda: run(args), (RecipeError, SnapTexError))


if __name__ == "__main__":
    sys.exit(main())

"""``snaptex ocr``: LaTeX for image files, one loaded model for the whole batch."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

from model import delimiters
from model.errors import SnapTexError
from model.options import DEFAULT_BEAMS, InferenceOptions

logger = logging.getLogger(__name__)



def wrap(latex: str, fmt: str) -> str:
    """Put ``latex`` in the delimiters of ``fmt`` (a ``CLI_NAMES`` key), as the app does."""
    return delimiters.wrap(latex, delimiters.CLI_NAMES[fmt])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from model.loading import add_model_arguments

    parser = argparse.ArgumentParser(
        prog="snaptex ocr",
        description="Print the LaTeX of each equation image. Use - to read one image "
        "from stdin. Exit status 1 when any input failed.",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files, or -")
    add_model_arguments(parser)
    parser.add_argument(
        "--format",
        choices=list(delimiters.CLI_NAMES),
        default="raw",
        help="delimiters around the LaTeX (default: raw)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line: file, latex, seconds, ... or file, error",
    )
    parser.add_argument(
        "--beams", type=int, default=DEFAULT_BEAMS,
        help=f"beam width (default {DEFAULT_BEAMS}; 1 is greedy, fastest)"
    )
    parser.add_argument(
        "--seed-settings",
        action="store_true",
        help="the tutorial's decoding: 4 beams, repetition penalty 1.2, "
        "no-repeat 8-grams",
    )
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument(
        "--no-preprocess",
        action="store_true",
        help="skip flatten/invert/crop (for images already like training data)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> InferenceOptions:
    base = (
        InferenceOptions.seed()
        if args.seed_settings
        else InferenceOptions(num_beams=args.beams)
    )
    return InferenceOptions.from_dict(
        {
            **base.to_dict(),
            "max_new_tokens": args.max_new_tokens,
            "preprocess": not args.no_preprocess,
        }
    )


def run_one(recognizer, path: str, options: InferenceOptions, fmt: str) -> dict:
    from model.images import open_image_file

    started = time.perf_counter()
    try:
        prediction = recognizer.recognize(open_image_file(path), options)
    except SnapTexError as exc:
        return {"file": path, "error": str(exc), "code": exc.code.value}
    return {
        "file": path,
        "latex": wrap(prediction.latex, fmt),
        "seconds": round(time.perf_counter() - started, 3),
        "confidence": prediction.confidence,
        "needs_check": prediction.needs_check,
        "check_reason": prediction.check_reason,
        "check_region": prediction.check_region,
        "n_tokens": prediction.n_tokens,
        "warnings": list(prediction.warnings),
    }


def emit(record: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(record, ensure_ascii=False), flush=True)
    elif "error" in record:
        print(f"snaptex ocr: {record['file']}: {record['error']}", file=sys.stderr)
    else:
        print(record["latex"], flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        options = options_from(args)
        from model.loading import load_recognizer

        recognizer = load_recognizer(args.model, args.device, args.dtype, args.threads)
    except (SnapTexError, ValueError) as exc:
        print(f"snaptex ocr: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for path in args.images:
        record = run_one(recognizer, path, options, args.format)
        failed += "error" in record
        emit(record, args.json)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

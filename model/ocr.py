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
from model.exit_codes import EXIT_INPUT_FAILED, EXIT_OK, EXIT_USAGE
from model.options import InferenceOptions

logger = logging.getLogger(__name__)



def wrap(latex: str, fmt: str) -> str:
    """Put ``latex`` in the delimiters of ``fmt`` (a ``CLI_NAMES`` key), as the app does."""
    return delimiters.wrap(latex, delimiters.CLI_NAMES[fmt])


def build_parser() -> argparse.ArgumentParser:
    from model.decoding_flags import add_decoding_arguments
    from model.loading import add_model_arguments

    parser = argparse.ArgumentParser(
        prog="snaptex ocr",
        description="Print the LaTeX of each equation image. Use - to read one image "
        "from stdin. Inputs are checked before the model loads; a bad one is reported "
        "at once and the others are still read.",
        epilog="exit status: 0 all read, 1 some input failed, 2 usage error or the "
        "model could not be loaded",
    )
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="image files, or -")
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
    add_decoding_arguments(parser)
    parser.add_argument(
        "--print-settings",
        action="store_true",
        help="print the effective generation and pre-processing settings as one JSON "
        "object (read from the model folder's snaptex.json, no weights loaded) and exit",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.images and not args.print_settings:
        parser.error("give at least one IMAGE (or - for stdin)")
    return args


def options_from(args: argparse.Namespace) -> InferenceOptions:
    from model.decoding_flags import options_from_args

    return options_from_args(args)


def refused_inputs(paths: list[str]) -> dict[str, dict]:
    """The error record of every input that is refused before any model loads."""
    from model.images import check_image_file, open_image_bytes

    refused = {}
    for path in paths:
        try:
            if path == "-":
                open_image_bytes(replay_stdin())
            else:
                check_image_file(path)
        except SnapTexError as exc:
            refused[path] = {"file": path, "error": str(exc), "code": exc.code.value}
    return refused


def replay_stdin() -> bytes:
    """Read stdin now, to check it before the model loads, and leave the same bytes
    for the read that recognises them (a pipe can be read only once)."""
    import io

    data = sys.stdin.buffer.read()
    sys.stdin = io.TextIOWrapper(io.BytesIO(data))
    return data


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
        if args.print_settings:
            from model.decoding_flags import effective_settings

            print(json.dumps(effective_settings(args.model, options), indent=2))
            return EXIT_OK
    except (SnapTexError, ValueError) as exc:
        print(f"snaptex ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # Bad inputs are refused now, in milliseconds; only good ones wait for the model.
    refused = refused_inputs(args.images)
    for record in refused.values():
        emit(record, args.json)
    todo = [path for path in args.images if path not in refused]
    if not todo:
        return EXIT_INPUT_FAILED
    try:
        from model.loading import load_recognizer

        recognizer = load_recognizer(args.model, args.device, args.dtype, args.threads)
    except (SnapTexError, ValueError) as exc:
        print(f"snaptex ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    failed = len(refused)
    for path in todo:
        record = run_one(recognizer, path, options, args.format)
        failed += "error" in record
        emit(record, args.json)
    return EXIT_INPUT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

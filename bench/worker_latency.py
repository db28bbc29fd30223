"""``snaptex bench``: what a user waits for, measured through the real worker process.

Prints worker cold start (spawn -> ready), end-to-end latency per image (p50/p95,
client-side: PNG over the protocol, pre-processing, generation, clean-up), the first
image's latency on its own (sent right after ready, it waits for the worker's warm-up
recognition) and the worker's peak RSS. ``--shape`` instead
runs the T5Gemma-2 shape benchmark (``bench.t5gemma2_shapes``: encoder time per image,
decoder time per token, fp32/bf16).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.worker_process import REPO, WorkerProcess
from model import protocol
from model.decoding_flags import add_decoding_arguments, options_from_args
from model.errors import SnapTexError
from model.exit_codes import EXIT_INPUT_FAILED, EXIT_OK, EXIT_USAGE

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
DEFAULT_DATA = REPO.parent / "shared" / "data" / "im2latex-100k"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def images_from_folder(folder: Path, limit: int) -> tuple[list[tuple[str, bytes]], int]:
    """The folder's first ``limit`` images that pass the cheap check, and how many did
    not (each reported on stderr now, before a worker starts)."""
    from model.images import check_image_file

    if not folder.is_dir():
        raise UsageError(f"no such folder: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    images, refused = [], 0
    for path in files[:limit]:
        try:
            check_image_file(str(path))
        except SnapTexError as exc:
            print(f"snaptex bench: {path}: {exc}", file=sys.stderr)
            refused += 1
            continue
        images.append((path.name, path.read_bytes()))
    return images, refused


class UsageError(Exception):
    """A bad flag, folder or model: nothing can be measured (exit status 2)."""


def images_from_dataset(
    folder: Path, split: str, limit: int
) -> list[tuple[str, bytes]]:
    """PNG bytes of the first ``limit`` rows of a parquet split (no decoding by datasets)."""
    import pyarrow.parquet as pq  # only with --images from a parquet split

    rows: list[tuple[str, bytes]] = []
    for shard in sorted((folder / split).glob("*.parquet")):
        for record in pq.read_table(shard, columns=["image"]).to_pylist():
            rows.append((f"{split}-{len(rows)}", record["image"]["bytes"]))
            if len(rows) >= limit:
                return rows
    return rows


def measure(
    model: str | None,
    images: list[tuple[str, bytes]],
    threads: int,
    device: str,
    options: dict,
) -> dict:
    args = ["--threads", str(threads), "--device", device]
    worker = WorkerProcess(*args, *(["--model", model] if model else []))
    ready = worker.wait_ready(timeout=600)
    cold = time.perf_counter() - worker.started
    if ready["state"] != "ready":
        worker.close()
        raise UsageError(f"the worker could not load the model: {ready.get('message')}")
    latencies, tokens, failures = [], [], 0
    for index, (_, data) in enumerate(images):
        started = time.perf_counter()
        worker.send(protocol.predict(str(index), data, options))
        reply = worker.read(timeout=600)
        latencies.append(time.perf_counter() - started)
        failures += reply["type"] != "result"
        tokens.append(reply.get("n_tokens", 0))
    rss = worker.peak_rss_mb()
    worker.send(protocol.shutdown())
    worker.close()
    return {
        "model": ready.get("model"),
        "device": ready.get("device"),
        "dtype": ready.get("dtype"),
        "threads": threads,
        "images": len(images),
        "failures": failures,
        "cold_start_s": round(cold, 3),
        "load_s": ready.get("load_s"),
        # Sent the moment the worker is ready, so it also waits for the warm-up (~0.14 s)
        # that a user's first snip, seconds later, does not.
        "first_latency_s": round(latencies[0], 3) if latencies else None,
        "latency_p50_s": round(percentile(latencies, 50), 3) if latencies else None,
        "latency_p95_s": round(percentile(latencies, 95), 3) if latencies else None,
        "latency_mean_s": round(statistics.fmean(latencies), 3) if latencies else None,
        "tokens_mean": round(statistics.fmean(tokens), 1) if tokens else None,
        "peak_rss_mb": round(rss, 1) if rss else None,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snaptex bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", help="model folder (default: the bundled model)")
    parser.add_argument(
        "--images", type=Path, help="folder of images (default: im2latex test)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="parquet data set folder used when --images is not given",
    )
    parser.add_argument("--split", default="test")
    parser.add_argument(
        "--limit", type=int, default=50, help="number of images (default 50)"
    )
    parser.add_argument("--threads", type=int, default=2,
                        help="CPU threads of the worker (default 2)")
    parser.add_argument("--device", default="cpu",
                        help="auto, cpu (default: what a laptop has), cuda, cuda:N or mps")
    add_decoding_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--shape",
        action="store_true",
        help="run the T5Gemma-2 shape benchmark instead (bench.t5gemma2_shapes)",
    )
    return parser


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    return build_parser().parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    args, rest = parse_args(argv)
    if args.shape:
        from bench import t5gemma2_shapes as shape_bench

        return int(shape_bench.main(rest) or 0)
    try:
        return run(args, rest)
    except (UsageError, SnapTexError, ValueError) as exc:
        print(f"snaptex bench: {exc}", file=sys.stderr)
        return EXIT_USAGE


def run(args: argparse.Namespace, rest: list[str]) -> int:
    if rest:
        raise UsageError(f"unknown arguments {' '.join(rest)}")
    from model.loading import resolve_model

    options = options_from_args(args).to_dict()  # checked before a worker starts
    resolve_model(args.model)
    refused = 0
    if args.images:
        images, refused = images_from_folder(args.images, args.limit)
    else:
        images = images_from_dataset(args.data, args.split, args.limit)
    if not images:
        raise UsageError("no images found")
    report = measure(args.model, images, args.threads, args.device, options)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>16}: {value}")
    return EXIT_INPUT_FAILED if report["failures"] or refused else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

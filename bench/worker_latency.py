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
from model.options import DEFAULT_BEAMS

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
DEFAULT_DATA = REPO.parent / "shared" / "data" / "im2latex-100k"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def images_from_folder(folder: Path, limit: int) -> list[tuple[str, bytes]]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return [(p.name, p.read_bytes()) for p in files[:limit]]


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
        raise SystemExit(
            f"snaptex bench: the worker could not load the model: {ready.get('message')}"
        )
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
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
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--beams", type=int, default=DEFAULT_BEAMS,
                        help="default: the app's")
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--ctc-weight", type=float, default=None,
                        help="weight of CTC in the search (0: off; default: the model folder's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--shape",
        action="store_true",
        help="run the T5Gemma-2 shape benchmark instead (bench.t5gemma2_shapes)",
    )
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    args, rest = parse_args(argv)
    if args.shape:
        from bench import t5gemma2_shapes as shape_bench

        return int(shape_bench.main(rest) or 0)
    if rest:
        raise SystemExit(f"snaptex bench: unknown arguments {' '.join(rest)}")
    if args.images:
        images = images_from_folder(args.images, args.limit)
    else:
        images = images_from_dataset(args.data, args.split, args.limit)
    if not images:
        raise SystemExit("snaptex bench: no images found")
    options = {"num_beams": args.beams, "max_new_tokens": args.max_new_tokens}
    if args.ctc_weight is not None:
        options["ctc_weight"] = args.ctc_weight
    report = measure(args.model, images, args.threads, args.device, options)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>16}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench.startup_profile``: where the worker's cold start goes, phase by phase.

Each run is a fresh interpreter (``--child``), as the worker is, which times in order:
the interpreter's own start (spawn until its first line runs), ``import torch``,
``import transformers``, the processing and modelling modules every checkpoint needs
(``transformers.processing_utils``, ``transformers.modeling_utils``: these pull in
``torch.distributed.tensor`` and ``torch._dynamo``), then ``load_recognizer`` (config,
processor, weights, CPU placement), after which the worker reports ready, and the
worker's warm-up recognition (``Recognizer.warm_up``). Medians over ``--runs``
are printed; a first run after boot also pays for a cold page cache.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import time

from bench.worker_process import REPO

PHASES = ("interpreter", "torch", "transformers", "hf_modules", "load", "warm_up")


def child(model: str | None, threads: int) -> dict[str, float]:
    """Time each phase in this (fresh) interpreter; seconds."""
    marks = {"start": time.time()}

    def mark(name: str) -> None:
        marks[name] = time.time()

    import torch  # noqa: F401  (timed: the import is the point)

    mark("torch")
    import transformers

    mark("transformers")
    import transformers.modeling_utils
    import transformers.processing_utils  # noqa: F401

    mark("hf_modules")
    from model.loading import load_recognizer
    recognizer = load_recognizer(model, device="cpu", threads=threads)
    mark("load")
    recognizer.warm_up()
    mark("warm_up")
    names = ["start", *PHASES[1:]]
    return {later: round(marks[later] - marks[earlier], 3)
            for earlier, later in itertools.pairwise(names)} | {"t0": marks["start"]}


def run_once(model: str | None, threads: int) -> dict[str, float]:
    """One fresh interpreter; its phases, the interpreter's start, and the total."""
    command = [sys.executable, "-m", "bench.startup_profile", "--child",
               "--threads", str(threads)] + (["--model", model] if model else [])
    spawned = time.time()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the profiled interpreter failed: {tail}")
    phases = json.loads(done.stdout.strip().splitlines()[-1])
    phases["interpreter"] = round(phases.pop("t0") - spawned, 3)
    phases["total"] = round(sum(phases[p] for p in PHASES), 3)
    return phases


def summarize(runs: list[dict[str, float]]) -> dict[str, float]:
    """Median of each phase (and of the totals) over the runs."""
    if not runs:
        raise ValueError("no runs to summarize")
    return {key: round(statistics.median(r[key] for r in runs), 3)
            for key in (*PHASES, "total")}


def table(summary: dict[str, float]) -> str:
    ready = sum(summary[p] for p in PHASES[:-1])
    lines = [f"{name:>14}: {summary[name]:6.2f} s" for name in PHASES]
    lines.append(f"{'ready':>14}: {ready:6.2f} s   (all but the warm-up: the bench's cold start)")
    lines.append(f"{'total':>14}: {summary['total']:6.2f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup_profile",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the bundled model)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.model, args.threads)))
        return 0
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        runs = [run_once(args.model, args.threads) for _ in range(args.runs)]
    except RuntimeError as exc:
        print(f"startup_profile: error: {exc}", file=sys.stderr)
        return 1
    summary = summarize(runs)
    print(json.dumps({"runs": runs, "median": summary}) if args.json else table(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

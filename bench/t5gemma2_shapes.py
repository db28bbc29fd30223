"""Benchmark the exact T5Gemma-2 270M-270M shape on this CPU (random weights, offline).

``python -m bench.t5gemma2_shapes`` builds each configuration (vocabulary x dtype x image
size x cache/compile) in its own subprocess, so the peak RSS it reports belongs to that
configuration alone, and times one greedy ``generate`` of a fixed number of tokens
through the real processor:

* encoder time per image: forward hooks around the encoder (SigLIP + text encoder),
* decoder time per token: (generate time - encoder time) / generated tokens,
* end-to-end: processor + generate + decode, for a ``--tokens``-token formula
  (EOS is suppressed until then, random weights would otherwise stop anywhere),
* encoder calls per generate (HF runs the encoder once per image, also with beams).

Figures do not depend on the weights. Ratios are against ``stock-fp32-896`` (the
released shape with its 262,144-token vocabulary, in fp32) from the same run. The
machine may be shared: medians of ``--repeats`` runs are reported; a configuration
whose first run takes longer than ``--slow-seconds`` is repeated only ``--slow-repeats``
times. Load on a shared machine comes in spells: ``--rounds N`` runs every configuration
once per round, so a busy spell hits all of them rather than a few.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.shape_runs import DEFAULT_CONFIGS, REFERENCE, all_configs, medians, run_child

logger = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- parent


def run_config_subprocess(args, name: str) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter (clean peak RSS)."""
    cmd = [
        sys.executable,
        "-m",
        "bench.t5gemma2_shapes",
        "--child",
        name,
        "--shape",
        args.shape,
        "--pruned-vocab",
        str(args.pruned_vocab),
        "--tokens",
        str(args.tokens),
        "--repeats",
        str(args.repeats),
        "--slow-repeats",
        str(args.slow_repeats),
        "--beams",
        str(args.beams),
        "--slow-seconds",
        str(args.slow_seconds),
    ]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"config": name, "error": tail}
    return json.loads(done.stdout.strip().splitlines()[-1])


def add_ratios(results: list[dict[str, Any]]) -> None:
    """Ratios of each median against the reference configuration of the same run."""
    ref = next(
        (r for r in results if r.get("config") == REFERENCE and "median" in r), None
    )
    if ref is None:
        return
    for result in results:
        if "median" not in result:
            continue
        result["ratio_vs_stock_fp32"] = {
            key: result["median"][key] / ref["median"][key]
            for key in ("encoder_s", "vision_s", "decoder_per_token_s", "e2e_s")
            if ref["median"][key] > 0
        }


def check_targets(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The speed targets (ratios vs stock fp32) and whether this run met them."""
    ratios = {
        r["config"]: r["ratio_vs_stock_fp32"]
        for r in results
        if "ratio_vs_stock_fp32" in r
    }

    def best(prefix: str, key: str) -> float | None:
        values = [v[key] for name, v in ratios.items() if name.startswith(prefix)]
        return min(values) if values else None

    targets = {
        "decoder_per_token_pruned": (best("pruned-", "decoder_per_token_s"), 1 / 3),
        "encoder_448": (best_at(ratios, 448, "encoder_s"), 0.5),
        "encoder_224": (best_at(ratios, 224, "encoder_s"), 0.2),
        "e2e_best": (best("", "e2e_s"), 0.15),
    }
    return {
        name: {
            "ratio": value,
            "limit": limit,
            "met": None if value is None else value <= limit,
        }
        for name, (value, limit) in targets.items()
    }


def best_at(ratios: dict[str, dict[str, float]], px: int, key: str) -> float | None:
    values = [v[key] for name, v in ratios.items() if f"-{px}" in name]
    return min(values) if values else None


def format_table(results: list[dict[str, Any]]) -> str:
    header = (
        "| config | params | encoder s/image | decoder s/token | e2e s | peak RSS MB "
        "| enc ratio | dec ratio | e2e ratio |"
    )
    lines = [header, "|" + "---|" * 9]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['config']} | error: {r['error']} |" + " |" * 7)
            continue
        m, q = r["median"], r.get("ratio_vs_stock_fp32", {})
        lines.append(
            f"| {r['config']} | {r['params'] / 1e6:.0f}M | {m['encoder_s']:.3f} | "
            f"{m['decoder_per_token_s']:.4f} | {m['e2e_s']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | "
            f"{_ratio(q, 'encoder_s')} | {_ratio(q, 'decoder_per_token_s')} | "
            f"{_ratio(q, 'e2e_s')} |"
        )
    return "\n".join(lines)


def _ratio(ratios: dict[str, float], key: str) -> str:
    return f"{ratios[key]:.3f}x" if key in ratios else "-"


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.t5gemma2_shapes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--shape", default="270m-270m", choices=["270m-270m", "tiny"])
    parser.add_argument(
        "--configs",
        default=",".join(DEFAULT_CONFIGS),
        help="comma-separated names, or 'all' (see --list)",
    )
    parser.add_argument("--list", action="store_true", help="list configuration names")
    parser.add_argument(
        "--pruned-vocab",
        type=int,
        default=4096,
        help="vocabulary size after LaTeX pruning (default 4096)",
    )
    parser.add_argument("--tokens", type=int, default=60, help="tokens per formula")
    parser.add_argument("--beams", type=int, default=1)
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs (fast configs)"
    )
    parser.add_argument(
        "--slow-repeats",
        type=int,
        default=1,
        help="timed runs in all for configs slower than --slow-seconds",
    )
    parser.add_argument("--slow-seconds", type=float, default=30.0)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every config once per round; medians pool all rounds (noisy machine)",
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="PATH",
        help="write JSON (to PATH, updated after each config, or stdout)",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    counts = (args.tokens, args.repeats, args.slow_repeats, args.beams, args.rounds)
    if min(*counts, args.pruned_vocab) < 1:
        parser.error(
            "--tokens, --repeats, --slow-repeats, --beams, --rounds and "
            "--pruned-vocab must be >= 1"
        )
    return args


def selected_configs(spec: str) -> list[str]:
    known = all_configs()
    names = (
        list(known)
        if spec == "all"
        else [n.strip() for n in spec.split(",") if n.strip()]
    )
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"unknown configuration(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    if args.child:
        print(json.dumps(run_child(args, all_configs()[args.child])))
        return 0
    if args.list:
        print("\n".join(all_configs()))
        return 0
    try:
        names = selected_configs(args.configs)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = run_all(args, names)
    if args.json == "-":
        print(json.dumps(report, indent=2))
    else:
        print(format_table(report["results"]))
        print(json.dumps(report["targets"], indent=2))
    return 0 if all("error" not in r for r in report["results"]) else 1


def run_all(args, names: list[str]) -> dict[str, Any]:
    """Every config once per round (rounds spread a busy spell over all configs);
    medians over all rounds' runs, peak RSS the highest of any round."""
    report: dict[str, Any] = {
        "shape": args.shape,
        "tokens": args.tokens,
        "pruned_vocab": args.pruned_vocab,
        "beams": args.beams,
        "rounds": args.rounds,
        "reference": REFERENCE,
        "results": [],
    }
    merged: dict[str, dict[str, Any]] = {}
    for round_index in range(args.rounds):
        for name in names:
            logger.info("round %d: running %s", round_index + 1, name)
            result = merge_result(merged.get(name), run_config_subprocess(args, name))
            merged[name] = result
            logger.info("%s: %s", name, json.dumps(result.get("median", result)))
            report["results"] = list(merged.values())
            add_ratios(report["results"])
            report["targets"] = check_targets(report["results"])
            if args.json not in (None, "-"):
                text = json.dumps(report, indent=2) + "\n"
                Path(args.json).write_text(text, encoding="utf-8")
    return report


def merge_result(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """One config's results across rounds: runs pooled, medians redone, peak RSS max."""
    if old is None or "error" in old:
        return new
    if "error" in new:
        return old
    runs = old["runs"] + new["runs"]
    peak = max(old["peak_rss_mb"], new["peak_rss_mb"])
    return {
        **new,
        "runs": runs,
        "median": medians(runs),
        "peak_rss_mb": peak,
        "threads": sorted({*_as_list(old["threads"]), *_as_list(new["threads"])}),
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


if __name__ == "__main__":
    raise SystemExit(main())

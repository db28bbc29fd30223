"""`python -m training.evaluate.paired REPORT.json [REPORT.json ...] A B`: is B better than A?

Two systems of a ``training.evaluate.pix2tex.compare`` report read the same images, so
their edit distances can be compared snip by snip. Differences of a few thousandths
between dev sets of a few hundred snips are common; a paired bootstrap (resample the
snips, keep each snip's pair together) says how much of a change the set itself could
produce. Prints the mean change of B against A, its 95 % interval and how many snips
got better or worse. Several reports (dev sets built the same way, other formulas) are
pooled snip by snip, which narrows the interval where each set alone is too small.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RESAMPLES = 2000


@dataclass(frozen=True)
class PairedChange:
    """B's edit distance minus A's over the same snips (negative: B reads better)."""

    count: int
    mean: float
    low: float  # 2.5th percentile of the bootstrap means
    high: float  # 97.5th percentile
    better: int  # snips B read closer to the reference than A did
    worse: int

    def line(self, a: str, b: str) -> str:
        return (f"{b} against {a}, {self.count} snips: edit distance {self.mean:+.4f} "
                f"(95 % interval {self.low:+.4f} to {self.high:+.4f}); "
                f"better on {self.better}, worse on {self.worse}")


def paired_change(a: Sequence[float], b: Sequence[float], resamples: int = RESAMPLES,
                  seed: int = 0) -> PairedChange:
    """Paired bootstrap of ``mean(b - a)``; ``a`` and ``b`` are per-snip distances."""
    if len(a) != len(b) or not a:
        raise ValueError("need two equally long, non-empty lists of distances")
    deltas = [y - x for x, y in zip(a, b, strict=True)]
    n = len(deltas)
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(deltas, k=n)) / n for _ in range(resamples))
    return PairedChange(
        count=n,
        mean=sum(deltas) / n,
        low=means[int(0.025 * (resamples - 1))],
        high=means[int(0.975 * (resamples - 1))],
        better=sum(d < 0 for d in deltas),
        worse=sum(d > 0 for d in deltas),
    )


def distances(report: dict, system: str) -> list[float]:
    """Per-snip edit distances of one system of a compare report, scored as its table is."""
    from training.evaluate.metrics import edit_distance, prediction_tokens, reference_tokens

    if not isinstance(report, dict) or "examples" not in report:
        raise ValueError("not a compare report (no examples)")
    return [edit_distance(prediction_tokens(e[system]), reference_tokens(e["text"]))
            for e in report["examples"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate.paired",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, nargs="+", metavar="report",
                        help="JSON from training.evaluate.pix2tex.compare; several are pooled")
    parser.add_argument("a", help='the baseline as the report names it, e.g. "snaptex (release-7)"')
    parser.add_argument("b", help="the system compared with it")
    parser.add_argument("--resamples", type=int, default=RESAMPLES)
    args = parser.parse_args(argv)
    a, b = [], []
    for path in args.reports:
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            a += distances(report, args.a)
            b += distances(report, args.b)
        except KeyError as exc:
            print(f"paired: no system {exc} in {path}", file=sys.stderr)
            return 2
        except (OSError, ValueError) as exc:
            print(f"paired: cannot read {path}: {exc}", file=sys.stderr)
            return 2
    try:
        change = paired_change(a, b, args.resamples)
    except ValueError as exc:
        print(f"paired: {exc}", file=sys.stderr)
        return 2
    print(change.line(args.a, args.b))
    return 0


if __name__ == "__main__":
    sys.exit(main())

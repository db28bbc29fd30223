"""The self-check's reliability plot::

    python -m training.evaluate.reliability_plot --report R.json \\
        --out docs/self-check-reliability.png

Draws the self-check's reliability on the held-out half of the dev set from the report
``python -m training.evaluate.calibrate --report R.json`` wrote: per confidence bin, the share of
readings that were exactly right against the confidence shown (a calibrated check lies
on the diagonal), with the bins' counts, and the needs_check threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

VARIANT = "model signals + round trip"


def plot(report: dict, out: Path, variant: str | None = None) -> None:
    """``variant``: the report's calibration to draw; default the one that shipped."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variant = variant or report.get("shipped", VARIANT)
    figures = report["variants"][variant]
    bins = figures["reliability"]
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(6, 6.4), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], color="#999999", linestyle="--", label="calibrated")
    centres = [(b["low"] + b["high"]) / 2 for b in bins]
    top.bar(centres, [b["accuracy"] for b in bins], width=0.09, color="#4c78a8",
            alpha=0.75, label="share exactly right")
    top.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-",
             color="#e45756", label="mean confidence vs share right")
    top.axvline(figures["threshold"], color="#f58518", linestyle=":",
                label=f"needs_check below {figures['threshold']:.2f}")
    top.set_ylabel("exactly right (spacing-insensitive)")
    top.set_ylim(0, 1)
    top.set_title(
        f"Self-check ({variant}) on {figures['count']} held-out PDF snips:\n"
        f"AUROC {figures['auroc']:.3f}, ECE {figures['ece']:.3f}, catches "
        f"{figures['catch_rate']:.0%} of wrong readings, flags "
        f"{figures['false_flag_rate']:.0%} of right ones", fontsize=9)
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(centres, [b["count"] for b in bins], width=0.09, color="#72b7b2")
    bottom.set_ylabel("readings")
    bottom.set_xlabel("confidence shown")
    bottom.set_xlim(0, 1)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate.reliability_plot",
                                     description=__doc__.split("\n\n")[1])
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/self-check-reliability.png"))
    parser.add_argument("--variant", default=None,
                        help="which calibration of the report (default: the shipped one)")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        plot(report, args.out, args.variant)
    except (OSError, KeyError, ValueError) as exc:
        print(f"reliability_plot: {exc}", file=sys.stderr)
        return 1
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

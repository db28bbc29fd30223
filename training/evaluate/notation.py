"""`python -m training.evaluate.notation REPORT.json`: how much of an edit distance is notation.

im2latex's references are the authors' own LaTeX: ``\\,`` or ``\\;`` or ``~`` for a thin
space, ``{ \\frac ... }`` with or without its braces, ``\\cal`` or ``\\mathcal``, ``\\left(``
or ``(``. A reader cannot see which an author typed, yet the scorer counts each as a token.
This diagnosis rescores a ``snaptex eval`` report with such notation merged step by step,
so the part of the error that a better reader could still remove is visible. It is for
reading results only: the figures of record stay those of :mod:`training.evaluate.metrics`.

The report must keep every example: run ``snaptex eval`` with ``--worst`` at least ``--limit``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from model.selfcheck.signals import SPACING_COMMANDS
from training.evaluate.metrics import (
    Scores,
    prediction_tokens,
    reference_tokens,
    score_tokens,
)

# Old font switches and their modern commands render alike.
FONT_ALIASES = {r"\cal": r"\mathcal", r"\bf": r"\mathbf", r"\rm": r"\mathrm",
                r"\it": r"\mathit", r"\sf": r"\mathsf", r"\tt": r"\mathtt"}
# Delimiter sizing: ``\left(`` and ``\big(`` around one line look like ``(``.
SIZING = frozenset({r"\left", r"\right", r"\big", r"\Big", r"\bigg", r"\Bigg",
                    r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\biggl", r"\biggr",
                    r"\Biggl", r"\Biggr"})

Step = Callable[[list[str]], list[str]]


def drop_spacing(tokens: list[str]) -> list[str]:
    """Without horizontal spacing commands (the self-check's set): at im2latex's resolution
    one is hard to tell from another."""
    return [t for t in tokens if t not in SPACING_COMMANDS]


def drop_braces(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in ("{", "}")]


def merge_aliases(tokens: list[str]) -> list[str]:
    return [FONT_ALIASES.get(t, t) for t in tokens if t not in SIZING]


# Each row merges its own notation and every row's above it.
STEPS: tuple[tuple[str, Step | None], ...] = (
    ("as scored", None),
    ("spacing commands ignored", drop_spacing),
    ("+ braces ignored", drop_braces),
    ("+ font switches and delimiter sizes merged", merge_aliases),
)


def breakdown(predictions: Sequence[list[str]], references: Sequence[list[str]]
              ) -> list[tuple[str, Scores]]:
    """Scores after each step of :data:`STEPS`, cumulatively."""
    rows = []
    predicted, referenced = list(predictions), list(references)
    for label, step in STEPS:
        if step is not None:
            predicted = [step(p) for p in predicted]
            referenced = [step(r) for r in referenced]
        rows.append((label, score_tokens(predicted, referenced)))
    return rows


def examples_of(entry: dict) -> tuple[list[list[str]], list[list[str]]]:
    """Prediction and reference tokens of one model's part of a ``snaptex eval`` report."""
    kept, count = entry["worst"], entry["metrics"]["count"]
    if len(kept) < count:
        raise ValueError(f"the report keeps {len(kept)} of {count} examples; "
                         f"rerun snaptex eval with --worst {count}")
    return ([prediction_tokens(e["prediction"]) for e in kept],
            [reference_tokens(e["reference"]) for e in kept])


def table(name: str, rows: list[tuple[str, Scores]]) -> str:
    lines = [f"{name}", "| scored | edit distance | exact match |", "|---|---|---|"]
    lines += [f"| {label} | {s.edit_distance:.4f} | {s.exact_match:.1%} |"
              for label, s in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate.notation",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="JSON written by snaptex eval --worst N")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        tables = [table(entry["model"]["name"], breakdown(*examples_of(entry)))
                  for entry in report["reports"]]
    except (KeyError, TypeError) as exc:
        print(f"notation: {args.report} is not a snaptex eval report (no {exc})",
              file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"notation: cannot read {args.report}: {exc}", file=sys.stderr)
        return 2
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m training.evaluate.constructs REPORT.json`: what is read wrong, by construct.

A reference formula is tagged with every construct it contains (a matrix, a fraction, a
long sub- or superscript, ...); each system of a ``training.evaluate.pix2tex.compare``
report is then scored on the formulas of each tag. An example counts once per tag it
has, so rows overlap; ``plain`` is the formulas with none of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from model.postprocess import latex_tokens

MULTILINE = {r"\begin", r"\\", r"\matrix", r"\pmatrix", r"\cases", r"\atop", r"\substack"}
FRACTION = {r"\frac", r"\dfrac", r"\tfrac", r"\over", r"\cfrac", r"\binom", r"\choose"}
BIG_OPERATOR = {r"\sum", r"\int", r"\prod", r"\oint", r"\iint", r"\iiint", r"\bigcup",
                r"\bigcap", r"\bigoplus", r"\bigotimes", r"\coprod", r"\lim", r"\limits"}
ACCENT = {r"\hat", r"\bar", r"\tilde", r"\vec", r"\dot", r"\ddot", r"\overline",
          r"\underline", r"\widehat", r"\widetilde", r"\check", r"\breve", r"\overrightarrow"}
FONT = {r"\mathbf", r"\mathrm", r"\mathcal", r"\mathbb", r"\mathfrak", r"\mathscr",
        r"\boldsymbol", r"\bf", r"\cal", r"\rm", r"\it", r"\mathit", r"\mathsf", r"\sf",
        r"\operatorname", r"\mathop", r"\bm", r"\mathtt", r"\tt"}
TEXT = {r"\text", r"\mbox", r"\textrm", r"\textit", r"\textbf", r"\hbox"}
LONG_SCRIPT_TOKENS = 5  # tokens inside one `_{...}`/`^{...}`, braces excluded

CONSTRUCTS = ("multi-line", "fraction", "long script", "big operator", "left/right",
              "accent", "font command", "text", "root")


def long_script(tokens: list[str]) -> bool:
    """Whether some sub- or superscript group holds ``LONG_SCRIPT_TOKENS`` or more tokens."""
    for start, token in enumerate(tokens[:-1]):
        if token not in ("_", "^") or tokens[start + 1] != "{":
            continue
        depth, inside = 0, 0
        for inner in tokens[start + 1:]:
            depth += (inner == "{") - (inner == "}")
            if depth == 0:
                break
            inside += inner not in ("{", "}")
        if inside >= LONG_SCRIPT_TOKENS:
            return True
    return False


def constructs(text: str) -> list[str]:
    """The constructs of ``text`` (in ``CONSTRUCTS`` order), or ``["plain"]``."""
    tokens = latex_tokens(text)
    found = set(tokens)
    checks = {
        "multi-line": bool(found & MULTILINE),
        "fraction": bool(found & FRACTION),
        "long script": long_script(tokens),
        "big operator": bool(found & BIG_OPERATOR),
        "left/right": r"\left" in found,
        "accent": bool(found & ACCENT),
        "font command": bool(found & FONT),
        "text": bool(found & TEXT),
        "root": r"\sqrt" in found,
    }
    tags = [name for name in CONSTRUCTS if checks[name]]
    return tags or ["plain"]


def by_construct(report: dict) -> dict[str, dict[str, dict]]:
    """{construct: {system: scores}} over a compare report's examples."""
    from training.evaluate.metrics import score_texts

    systems = list(report["scores"]["overall"])
    groups: dict[str, list[dict]] = {}
    for example in report["examples"]:
        for tag in constructs(example["text"]):
            groups.setdefault(tag, []).append(example)
    order = [*CONSTRUCTS, "plain"]
    return {
        tag: {name: score_texts([e[name] for e in groups[tag]],
                                [e["text"] for e in groups[tag]]).to_dict() for name in systems}
        for tag in order if tag in groups
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate.constructs",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="JSON from training.evaluate.pix2tex.compare")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        table = by_construct(report)
    except (OSError, ValueError, KeyError) as exc:
        print(f"constructs: cannot read {args.report}: {exc}", file=sys.stderr)
        return 2
    from training.evaluate.pix2tex.compare import style_table

    print(style_table("construct", table))
    return 0


if __name__ == "__main__":
    sys.exit(main())

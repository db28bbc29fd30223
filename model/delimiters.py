"""Math delimiters around recognised LaTeX, shared by the app's popup and ``snaptex ocr``.

Standard library only: the desktop app imports it without pulling in torch, and re-styling a
result never re-runs the model.
"""

from __future__ import annotations

import enum


class Style(str, enum.Enum):
    """Output formats, in the order the popup shows them."""

    RAW = "raw"
    INLINE_DOLLAR = "dollar"
    INLINE_PAREN = "paren"
    DISPLAY_BRACKET = "bracket"
    EQUATION = "equation"


LABELS: dict[Style, str] = {
    Style.RAW: "raw",
    Style.INLINE_DOLLAR: "$…$",
    Style.INLINE_PAREN: r"\(…\)",
    Style.DISPLAY_BRACKET: r"\[…\]",
    Style.EQUATION: "equation*",
}

# ``--format`` names (short words for a shell) onto the same styles. Every command
# takes all of them: the stored values (dollar, bracket) and the words (inline, display).
CLI_NAMES: dict[str, Style] = {
    "raw": Style.RAW,
    "inline": Style.INLINE_DOLLAR,
    "paren": Style.INLINE_PAREN,
    "display": Style.DISPLAY_BRACKET,
    "equation": Style.EQUATION,
    "dollar": Style.INLINE_DOLLAR,
    "bracket": Style.DISPLAY_BRACKET,
}

_DELIMITERS: dict[Style, tuple[str, str]] = {
    Style.RAW: ("", ""),
    Style.INLINE_DOLLAR: ("$", "$"),
    Style.INLINE_PAREN: ("\\(", "\\)"),
    Style.DISPLAY_BRACKET: ("\\[", "\\]"),
    Style.EQUATION: ("\\begin{equation*}\n", "\n\\end{equation*}"),
}

# Outer wrappers a user may paste or type; the longest first so $$ wins over $.
_KNOWN_WRAPPERS: tuple[tuple[str, str], ...] = (
    ("\\begin{equation*}", "\\end{equation*}"),
    ("\\begin{equation}", "\\end{equation}"),
    ("$$", "$$"),
    ("\\[", "\\]"),
    ("\\(", "\\)"),
    ("$", "$"),
)


def strip_delimiters(text: str) -> str:
    """Remove one outer math wrapper so wrapping twice never doubles delimiters."""
    body = text.strip()
    for start, end in _KNOWN_WRAPPERS:
        inner_long_enough = len(body) >= len(start) + len(end)
        if inner_long_enough and body.startswith(start) and body.endswith(end):
            return body[len(start) : len(body) - len(end)].strip()
    return body


def wrap(latex: str, style: Style | str) -> str:
    """``latex`` in the given clipboard style (any existing outer wrapper replaced)."""
    start, end = _DELIMITERS[Style(style)]
    body = strip_delimiters(latex)
    return f"{start}{body}{end}" if body else ""

"""Clipboard delimiter styles: table-driven."""

import pytest

from model.delimiters import LABELS, Style, strip_delimiters, wrap


@pytest.mark.parametrize(
    ("latex", "style", "expected"),
    [
        (r"\frac{a}{b}", Style.RAW, r"\frac{a}{b}"),
        (r"\frac{a}{b}", Style.INLINE_DOLLAR, r"$\frac{a}{b}$"),
        (r"\frac{a}{b}", Style.INLINE_PAREN, r"\(\frac{a}{b}\)"),
        (r"\frac{a}{b}", Style.DISPLAY_BRACKET, r"\[\frac{a}{b}\]"),
        (
            r"\frac{a}{b}",
            Style.EQUATION,
            "\\begin{equation*}\n\\frac{a}{b}\n\\end{equation*}",
        ),
        ("  x^2  ", "dollar", "$x^2$"),  # style by value, whitespace trimmed
        (r"$x$", Style.DISPLAY_BRACKET, r"\[x\]"),  # never double-wrapped
        (r"\[x\]", Style.RAW, "x"),
        ("", Style.INLINE_DOLLAR, ""),
    ],
)
def test_wrap(latex, style, expected):
    assert wrap(latex, style) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$$a+b$$", "a+b"),
        ("$a+b$", "a+b"),
        (r"\(a\)", "a"),
        ("\\begin{equation}\na\n\\end{equation}", "a"),
        ("\\begin{equation*} a \\end{equation*}", "a"),
        ("a$b", "a$b"),  # not an outer wrapper
        ("$", "$"),  # too short to be a wrapper
        (r"\$5\$", r"\$5\$"),  # escaped dollars are text (no leading bare $)
    ],
)
def test_strip_delimiters(text, expected):
    assert strip_delimiters(text) == expected


def test_every_style_has_a_label_and_round_trips():
    for style in Style:
        assert LABELS[style]
        assert strip_delimiters(wrap("x+1", style)) == "x+1"

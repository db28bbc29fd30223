"""Table tests for LaTeX clean-up (pure functions)."""

import pytest

from model.options import SEED_PROMPT
from model.postprocess import (
    clean_latex,
    clean_latex_report,
    close_groups,
    cut_repetition,
    latex_tokens,
    normalize_spacing,
    strip_edges,
    strip_special,
)


@pytest.mark.parametrize(("raw", "expected"), [
    (r"\frac { 1 } { 2 }", r"\frac{1}{2}"),
    (r"x ^ { 2 } + y ^ { 2 } = z ^ { 2 }", r"x^{2}+y^{2}=z^{2}"),
    (r"\alpha x + \beta", r"\alpha x+\beta"),
    (r"{ \cal L } = \int d ^ { 4 } x", r"{\cal L}=\int d^{4}x"),
    (r"\mathrm { a r c s i n h } \; \alpha", r"\mathrm{arcsinh}\;\alpha"),
    (r"\text{if } x \geq 0", r"\text{if }x\geq0"),
    (r"\text { for all } x", r"\text{ for all }x"),
    (r"a \, b \quad c", r"a\,b\quad c"),
    (r"\left( \frac { a } { b } \right)", r"\left(\frac{a}{b}\right)"),
    (r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
     r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}"),
    (r"\begin{array} { c c } 1&2\\3&4 \end{array}",
     r"\begin{array}{cc} 1 & 2 \\ 3 & 4 \end{array}"),
    (r"a \& b", r"a\&b"),
    ("  x  ", "x"),
    ("", ""),
])
def test_normalize_spacing(raw, expected):
    assert normalize_spacing(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    (f"{SEED_PROMPT} x^2", "x^2"),
    ("Convert this equation image to LaTeX. Output only LaTeX. a+b", "a+b"),
    ("<bos> x <eos> <pad> <pad>", "x"),
    ("<start_of_image> <image_soft_token> y", "y"),
    ("\x19x\ufffd", "x"),
    (r"\frac{a}{b}", r"\frac{a}{b}"),
])
def test_strip_special(raw, expected):
    assert strip_special(raw, SEED_PROMPT) == expected


# Decoded T5Gemma-2 outputs shaped like the tutorial's: the prompt echoed, sometimes
# with <start_of_image>, then the full stop the tutorial's clean-up drops.
@pytest.mark.parametrize(("raw", "expected"), [
    ("<start_of_image> Convert this equation image to LaTeX. Output only LaTeX. . "
     r"\frac{a}{b}", r"\frac{a}{b}"),
    (r"Convert this equation image to LaTeX. Output only LaTeX. . x^{2}+1", "x^{2}+1"),
    (r"Convert this equation image to LaTeX. Output only LaTeX.. \alpha", r"\alpha"),
    (r". \sum_{i=1}^{n} i", r"\sum_{i=1}^{n} i"),  # no echo, the stray stop alone
    (r"<start_of_image>. E=mc^{2}", "E=mc^{2}"),
    (r"\frac{a}{b}.", r"\frac{a}{b}."),  # a trailing full stop is content
    (r"\ldots+x_{n}", r"\ldots+x_{n}"),
])
def test_tutorial_echo_clean_up(raw, expected):
    assert strip_special(raw, SEED_PROMPT) == expected
    assert clean_latex(raw, SEED_PROMPT) == clean_latex(expected)


@pytest.mark.parametrize("raw", [". 5", r".\quad x"])
def test_leading_full_stop_is_kept_without_a_prompt(raw):
    # Pixel-only models get no prompt (PixelAdapter.echo_prompt), so nothing is dropped.
    assert strip_special(raw).startswith(".")


@pytest.mark.parametrize(("raw", "expected"), [
    ("  x \n", "x"),
    ("a\\ ", "a"),  # a control space, not "a\\" (a bare backslash)
    ("a\\\n", "a"),  # a control newline
    (r"x \ \ \ ", "x"),
    ("x^{", "x^{"),
    ("x \\", "x"),  # a command cut off at the token limit
    (r"a \\", r"a \\"),  # a line break is one token, kept
    (r"\ a", "a"),
    (r"\,a\,", r"\,a\,"),  # thin spaces are not edges
    ("a  b", "a  b"),  # inside is untouched
    (r"\ \ ", ""),
    ("", ""),
])
def test_strip_edges(raw, expected):
    assert strip_edges(raw) == expected


@pytest.mark.parametrize(("raw", "expected", "cut"), [
    ("x _ { 1 } " * 6 + "x _", r"x _ { 1 }", True),
    ("a + b " + "= 0 " * 5, "a + b = 0", True),
    ("1 " * 12, "1", True),
    (r"\quad \quad \quad", r"\quad \quad \quad", False),  # short runs are real LaTeX
    ("a + a + a", "a + a + a", False),
    (r"\frac { 1 } { 2 }", r"\frac { 1 } { 2 }", False),
])
def test_cut_repetition(raw, expected, cut):
    result = cut_repetition(raw)
    assert result.latex == expected
    assert bool(result.warnings) is cut


@pytest.mark.parametrize(("raw", "expected"), [
    ("{a", "{a}"),
    ("a}", "a"),
    ("{{a}", "{{a}}"),
    (r"\{a", r"\{a"),  # escaped braces are text
    ("}{a}{", "{a}{}"),
    (r"\left( a", r"\left( a \right."),
    (r"a \right)", r"\left. a \right)"),
    (r"\left( a \right)", r"\left( a \right)"),
    (r"\begin{matrix} a", r"\begin{matrix} a \end{matrix}"),
    (r"\begin{cases} a \begin{array}{c} b",
     r"\begin{cases} a \begin{array}{c} b \end{array} \end{cases}"),
    (r"\begin{matrix} a \end{matrix}", r"\begin{matrix} a \end{matrix}"),
    (r"\left[ \begin{matrix} a", r"\left[ \begin{matrix} a \end{matrix} \right."),
    (r"\frac{\left( a", r"\frac{\left( a \right.}"),
])
def test_close_groups(raw, expected):
    assert close_groups(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    (r"<bos> \frac { 1 } { 2 } <eos>", r"\frac{1}{2}"),
    (r"\sqrt { x", r"\sqrt{x}"),
    (r"\left[ \begin{matrix} a & b \\ c", r"\left[\begin{matrix} a & b \\ c \end{matrix}\right."),
    (r"e ^ { i \pi } + 1 = 0", r"e^{i\pi}+1=0"),
    ("a \\ ", "a"),  # a trailing control space never becomes a bare backslash
    (r"\text { a } \ ", r"\text{ a }"),
    # a control-space loop running to the token limit goes with the edges
    (r"f_{2}" + r"\ " * 20, r"f_{2}"),
    (r"f_{2}" + r"\ " * 20 + "\\", r"f_{2}"),
    # a thin-space loop cut off mid-command by the token limit
    (r"x \, \, \, \, \, \, \, \, " + "\\", r"x\,"),
])
def test_clean_latex(raw, expected):
    assert clean_latex(raw) == expected


def test_clean_latex_reports_repairs():
    assert clean_latex_report(r"\sqrt { x").warnings
    assert clean_latex_report(r"\sqrt { x }").warnings == ()


def test_clean_latex_is_idempotent():
    raw = r"\left( \frac { a } { b } \right) ^ { 2 } \text{ if } x"
    once = clean_latex(raw)
    assert clean_latex(once) == once


@pytest.mark.parametrize(("a", "b"), [
    (r"\frac { 1 } { 2 }", r"\frac{1}{2}"),
    (r"x ^ { 2 }", r"x^{2}"),
    (r"\alpha  x", r"\alpha x"),
])
def test_latex_tokens_ignore_spacing(a, b):
    assert latex_tokens(a) == latex_tokens(b)


def test_latex_tokens_split_commands():
    assert latex_tokens(r"\frac{a}{b}") == ["\\frac", "{", "a", "}", "{", "b", "}"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("x^2+y^2=z^2", "x^{2}+y^{2}=z^{2}"),
    ("a_i^j", "a_{i}^{j}"),
    ("x^{2}", "x^{2}"),  # already canonical
    (r"\frac{a}{b}^2", r"\frac{a}{b}^{2}"),
    ("x^*", "x^{*}"),
    (r"x^\prime", r"x^\prime"),  # commands may take arguments: left alone
    (r"x^\frac{1}{2}", r"x^\frac{1}{2}"),
    (r"\_a \^b", r"\_a \^b"),  # escaped characters are no scripts
    ("x^23", "x^{2}3"),  # TeX's own reading: only the 2 is raised
    ("", ""),
])
def test_brace_scripts(raw, expected):
    from model.postprocess import brace_scripts

    assert brace_scripts(raw) == expected


def test_clean_latex_and_metrics_agree_on_braced_scripts():
    assert clean_latex("x ^ 2") == "x^{2}"
    # bracing is canonical form, not a repair: no warning reaches the user
    assert clean_latex_report("x^2+y_i").warnings == ()
    assert clean_latex_report("x^2+{a").warnings == ("repaired unbalanced braces or delimiters",)
    assert latex_tokens("x^2") == latex_tokens("x ^ { 2 }")

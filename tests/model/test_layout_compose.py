r"""Table tests for putting rows read one by one back into a block (model/layout/compose.py)."""

from __future__ import annotations

import pytest

from model.layout.compose import compose_rows, flattened, row_environment, with_alignment
from model.postprocess import clean_latex


@pytest.mark.parametrize(("latex", "expected"), [
    (r"\begin{aligned} a & = b \\ & = c \end{aligned}", "aligned"),
    (r"{\begin{aligned}a&=b\\c&=d\end{aligned}}", "aligned"),
    (r"\begin{gathered} a \\ b \end{gathered}", "gathered"),
    (r"\begin{align*} a &= b \\ c &= d \end{align*}", "align*"),
    (r"a & = b \\ & = c \end{aligned}", "aligned"),  # the start was lost
    (r"{\begin{aligned} y & ={\frac{y}{2}}}{\frac{y}{2}} \end{aligned}", "aligned"),
    (r"\begin{pmatrix} a \\ b \end{pmatrix}", None),  # delimiters span the rows
    (r"\left\{ \begin{array}{l} a \\ b \end{array} \right.", None),
    (r"f(x) = \begin{cases} 1 \\ 0 \end{cases}", None),
    (r"x^2 + y^2 = 1", None),
    ("", None),
])
def test_row_environment(latex, expected):
    assert row_environment(latex) == expected


@pytest.mark.parametrize(("row", "expected"), [
    ("a+b=c", "a+b&=c"),
    ("=c", "&=c"),
    (r"\Rightarrow\qquad 0=x", r"\Rightarrow\qquad0&=x"),  # equality before arrows
    (r"x\Rightarrow y", r"x&\Rightarrow y"),  # an arrow when there is no equality
    (r"a\leq b<c", r"a&\leq b<c"),  # the first relation
    (r"\frac{a=b}{c}=d", r"\frac{a=b}{c}&=d"),  # not one inside braces
    ("x^2+1", "&x^{2}+1"),  # none: the row is continued below
    ("{x+y=1}", "x+y&=1"),  # a brace group around the whole row is dropped
    ("{} = b", "&=b"),
    ("{a}+{b}=c", "{a}+{b}&=c"),  # groups that are not the whole row stay
    ("a&=b&=c", "a&=b=c"),  # the row's own guesses give way to one alignment
    (r"x=\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"x&=\begin{pmatrix} 1 \\ 2 \end{pmatrix}"),
])
def test_with_alignment(row, expected):
    assert clean_latex(with_alignment(row)) == clean_latex(expected)


@pytest.mark.parametrize(("rows", "environment", "expected"), [
    (["a=b", "=c"], "aligned", r"\begin{aligned} a&=b \\ &=c \end{aligned}"),
    (["x+1", "=y"], "align*", r"\begin{align*} &x+1 \\ &=y \end{align*}"),
    (["a=b", "c"], "gathered", r"\begin{gathered} a=b \\ c \end{gathered}"),
    (["{a}", "b"], "gathered", r"\begin{gathered} a \\ b \end{gathered}"),
])
def test_compose_rows(rows, environment, expected):
    assert clean_latex(compose_rows(rows, environment)) == clean_latex(expected)


def test_text_keeps_its_spaces():
    block = compose_rows([r"x=1\text{ such that }y", r"\text{Tot}(x)=2"])
    assert r"\text{ such that }" in block and r"\text{Tot}" in block


@pytest.mark.parametrize(("rows", "expected"), [
    (["a=b", "c=d"], ["a=b", "c=d"]),
    # a crop that still held two rows comes back as a block of its own
    ([r"\begin{aligned} x & =1 \\ & =2 \end{aligned}", "=3"], [" x & =1 ", " & =2 ", "=3"]),
    ([r"y=\begin{pmatrix} 1 \\ 2 \end{pmatrix}"], [r"y=\begin{pmatrix} 1 \\ 2 \end{pmatrix}"]),
    ([r"{a \\ b}"], [r"{a \\ b}"]),  # a break inside braces is not the row's
    (["", " "], []),
])
def test_flattened(rows, expected):
    assert flattened(rows) == expected

"""Real LaTeX + dvipng: valid formulas render, bad ones are isolated without shifting
the page -> label mapping."""

from __future__ import annotations

import random

import pytest
from PIL import ImageStat

from training.render.latex import (
    Item,
    latex_source,
    parse_log,
    precheck,
    render_batch,
    tools_missing,
)
from training.render.style import (
    BatchStyle,
    ItemStyle,
    finish_image,
    sample_item_style,
    sample_theme,
)

pytestmark = pytest.mark.skipif(
    bool(tools_missing()),
    reason=f"{' and '.join(tools_missing())} not installed (apt-get install "
    "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended dvipng)",
)

PLAIN = dict(
    size="normalsize", display=True, margins=(4, 4, 4, 4), blur=0.0, jpeg_quality=0
)


def _style(theme: str) -> ItemStyle:
    return ItemStyle(theme=sample_theme(random.Random(0), theme), **PLAIN)


def _items(formulas: list[str], theme: str = "light") -> list[Item]:
    return [Item(i, formula, _style(theme)) for i, formula in enumerate(formulas)]


def _mean(image) -> float:
    return ImageStat.Stat(image.convert("L")).mean[0]


def test_fraction_renders_dark_ink_on_light_paper_and_dark_theme_inverts():
    batch = BatchStyle("cm", 12, 150)
    result = render_batch(_items([r"\frac{a}{b}"]), batch)
    assert result.failures == {}
    grey = result.images[0]
    assert grey.width > 5 and grey.height > 20  # a fraction is taller than wide-ish
    light = finish_image(grey, _style("light"))
    dark = finish_image(grey, _style("dark"))
    assert _mean(light) > 180 and light.convert("L").getextrema()[0] < 80
    assert _mean(dark) < 80 and dark.convert("L").getextrema()[1] > 180


# Formula 2 is a runaway-free error TeX reports; formula 4 fails only inside TeX
# (undefined command); all others must keep their own picture.
BATCH = [
    r"x",
    r"\frac{1}{2}",
    r"\notacommand{y}",
    r"x^{2}+y^{2}=z^{2}",
    r"\left( a",
    r"\sum_{i=1}^{n} i",
    r"\sqrt{2}",
    r"\alpha\beta\gamma",
]


@pytest.mark.parametrize("font", ["cm", "txfonts"])  # txfonts: preamble without amssymb
def test_bad_formulas_in_the_middle_do_not_shift_labels(font):
    batch = BatchStyle(font, 11, 110)
    together = render_batch(_items(BATCH), batch)
    assert set(together.failures) == {2, 4}
    assert "Undefined control sequence" in together.failures[2]
    assert r"\notacommand" in together.failures[2]
    assert "right" in together.failures[4]  # "Missing \right. inserted"
    for index in together.images:  # each page must equal the formula rendered alone
        alone = render_batch(_items([BATCH[index]]), batch).images[0]
        assert together.images[index].size == alone.size, BATCH[index]
        assert together.images[index].tobytes() == alone.tobytes(), BATCH[index]


def test_old_im2latex_commands_and_display_environments_render():
    formulas = [
        r"{ \cal L } = { \bf x } \pmatrix { a & b \cr c & d }",
        r"\matrix { 1 & 2 \cr }",
        r"\begin{align} a &= b \\ c &= d \end{align}",
        r"\mathscr{C} \mathbb{R} \bm{x} \operatorname{tr}",
    ]
    result = render_batch(_items(formulas), BatchStyle("cm", 12, 120))
    assert result.failures == {}
    assert len(result.images) == 4


def test_refused_and_empty_formulas_are_reported():
    formulas = [
        r"\frac{a}{b",
        r"\def\x{1}\x",
        "50% off",
        r"\phantom{x}",
        r"\frac{a}{b}",
    ]
    result = render_batch(_items(formulas), BatchStyle("cm", 12, 120))
    assert result.failures == {
        0: "unbalanced braces",
        1: r"uses \def (not formula content)",
        2: "contains a % comment",
        3: "renders to an empty image",
    }
    assert list(result.images) == [4]


@pytest.mark.parametrize(
    ("formula", "reason"),
    [
        (r"\frac{a}{b}", None),
        (r"50\% \{x\}", None),
        (r"a \\ b", None),
        ("", "empty formula"),
        (r"\frac{a}{b}}", "unbalanced braces"),
        (r"}{", "unbalanced braces"),
        (r"a\\% b", "contains a % comment"),
        (r"\input{/etc/passwd}", r"uses \input (not formula content)"),
        (r"\newpage x", r"uses \newpage (not formula content)"),
        (r"\letter", None),
    ],
)
def test_precheck_table(formula, reason):
    assert precheck(formula) == reason


def test_parse_log_blames_the_formula_after_its_marker():
    log = "\n".join(
        [
            "(preamble stuff)",
            "SNAPTEX-FORMULA 0 PAGE 1",
            "SNAPTEX-FORMULA 1 PAGE 2",
            "! Undefined control sequence.",
            "l.17 \\begin{displaymath}\\foo",
            "SNAPTEX-FORMULA 2 PAGE 3",
        ]
    )
    assert parse_log(log, 3) == (
        {1: "Undefined control sequence at \\begin{displaymath}\\foo"},
        True,
    )
    shifted = log.replace("FORMULA 2 PAGE 3", "FORMULA 2 PAGE 4")
    assert parse_log(shifted, 3)[1] is False
    assert parse_log(log, 4)[1] is False  # a formula's marker never appeared


def test_themes_vary_within_one_batch():
    rng = random.Random(5)
    items = [Item(i, r"x+1", sample_item_style(rng, 120)) for i in range(30)]
    result = render_batch(items, BatchStyle("mathpazo", 10, 120))
    assert len(result.images) == 30
    means = [_mean(finish_image(result.images[i.index], i.style)) for i in items]
    assert min(means) < 90 < 170 < max(means)  # dark and light snips both present


@pytest.mark.parametrize(
    ("formula", "source"),
    [
        (r"\hspace { 0 . 5 c m } x", r"\hspace {0.5cm} x"),
        (r"a \kern - 0 . 1 e m b", r"a \kern -0.1em b"),
        (r"\rule { 0 p t } { 1 2 p t }", r"\rule {0pt} {12pt}"),
        (r"{ 2 m } x", r"{ 2 m } x"),  # not a unit: untouched
        (r"\pmatrix { a \cr }", r"\snappmatrix { a \cr }"),
        (r"\begin{pmatrix} a \end{pmatrix}", r"\begin{pmatrix} a \end{pmatrix}"),
        (r"\begin{align} a \end{align}", r"\begin{align*} a \end{align*}"),
    ],
)
def test_latex_source_table(formula, source):
    assert latex_source(formula) == source


def test_space_tokenised_dimensions_render():
    formulas = [
        r"a \hspace { 0 . 5 c m } b",
        r"a \kern - 0 . 1 e m b",
        r"x \hspace { . 5 i n } y",
    ]
    result = render_batch(_items(formulas), BatchStyle("cm", 12, 100))
    assert result.failures == {}
    assert result.images[2].width > result.images[0].width  # half an inch > half a cm


@pytest.mark.parametrize("font", ["mathptmx", "mathpazo", "pxfonts"])
def test_every_font_renders_and_isolates_a_bad_formula(font):
    formulas = [r"\frac{a}{b}", r"\notacommand", r"\int_0^1 x\,dx"]
    result = render_batch(_items(formulas), BatchStyle(font, 10, 100))
    assert list(result.failures) == [1]
    assert sorted(result.images) == [0, 2]

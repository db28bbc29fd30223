"""Offline preview: mathtext rewrites (pure) and rendering to a QImage."""

import pytest

from desktop_app import preview


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"\dfrac{a}{b}", r"\frac{a}{b}"),
        (r"\displaystyle \sum_i x_i", r"\sum_i x_i"),
        (r"\text{if } x>0", r"\mathrm{if } x>0"),
        (r"\operatorname{sin} x", r"\mathrm{sin} x"),
        (r"\boldsymbol{x}", r"\mathbf{x}"),
        (r"\Big( x \Big)", "( x )"),
        (r"\begin{array}{cc} a & b \\ c & d \end{array}", r"a \quad b \quad c \quad d"),
        (r"\begin{aligned} x &= 1 \end{aligned}", r"x \quad = 1"),
        (r"a \& b", r"a \& b"),  # an escaped ampersand is a symbol, not a column
        ("a\n +  b", "a + b"),
    ],
)
def test_to_mathtext(latex, expected):
    assert preview.to_mathtext(latex) == expected


@pytest.mark.parametrize(
    "latex",
    [
        r"\frac{a}{b}",
        r"\sqrt{x^2+1}",
        r"\sum_{i=1}^n \alpha_i",
        r"\int_0^1 f(x)\,dx",
        r"\left( x \right)",
    ],
)
def test_render_gives_an_image(qapp, latex):
    image = preview.render(latex)
    assert not image.isNull()
    assert image.width() > 5 and image.height() > 5


def test_render_scales_with_device_pixel_ratio(qapp):
    one, two = preview.render("x+y"), preview.render("x+y", device_pixel_ratio=2.0)
    assert two.devicePixelRatio() == 2.0
    assert two.width() >= 2 * one.width() - 2


@pytest.mark.parametrize(
    ("latex", "reason"),
    [
        (r"\unknowncommand{x}", "unknowncommand"),
        ("", "nothing to preview"),
    ],
)
def test_render_failure_is_one_line(qapp, latex, reason):
    with pytest.raises(preview.PreviewError) as info:
        preview.render(latex)
    assert reason in str(info.value)
    assert "\n" not in str(info.value)


def test_finish_warm_up_waits_for_the_background_render():
    preview.warm_up_in_background()
    threads = list(preview._WARM_UP)
    preview.finish_warm_up()
    assert threads and not any(t.is_alive() for t in threads)
    assert preview._WARM_UP == []

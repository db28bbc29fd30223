"""Table tests for the pure sampling/finishing functions of the renderer (no LaTeX)."""

from __future__ import annotations

import random

import pytest
from PIL import Image

from training.render.style import (
    FONT_WEIGHTS,
    MAX_MARGIN_INCH,
    SIZE_WEIGHTS,
    THEMES,
    ItemStyle,
    finish_image,
    sample_batch_style,
    sample_item_style,
    sample_margins,
    sample_theme,
    theme_weights,
)


def _luminance(rgb: tuple[int, ...]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


@pytest.mark.parametrize(
    ("dpi_range", "seed"),
    [
        ((96, 200), 0),
        ((96, 200), 1),
        ((120, 120), 2),
        ((150, 160), 3),
    ],
)
def test_batch_style_stays_in_range_and_repeats_with_seed(dpi_range, seed):
    styles = [
        sample_batch_style(random.Random(f"{seed}:{i}"), dpi_range) for i in range(200)
    ]
    assert all(dpi_range[0] <= s.dpi <= dpi_range[1] for s in styles)
    assert {s.font for s in styles} <= set(FONT_WEIGHTS)
    assert {s.points for s in styles} <= {10, 11, 12}
    again = [
        sample_batch_style(random.Random(f"{seed}:{i}"), dpi_range) for i in range(200)
    ]
    assert styles == again


def test_batch_styles_cover_every_font_and_the_dpi_span():
    styles = [sample_batch_style(random.Random(i)) for i in range(500)]
    assert {s.font for s in styles} == set(FONT_WEIGHTS)
    dpis = [s.dpi for s in styles]
    assert min(dpis) < 110 and max(dpis) > 185


@pytest.mark.parametrize(
    ("theme", "dark_paper"),
    [
        ("light", False),
        ("sepia", False),
        ("dark", True),
    ],
)
def test_theme_contrast(theme, dark_paper):
    for seed in range(50):
        colours = sample_theme(random.Random(seed), theme)
        ink, paper = _luminance(colours.ink), _luminance(colours.paper)
        assert abs(ink - paper) > 100, colours  # always readable
        assert (paper < ink) == dark_paper


def test_unknown_theme_is_refused():
    with pytest.raises(ValueError, match="unknown theme"):
        theme_weights(["neon"])
    assert set(theme_weights(["dark"])) == {"dark"}


@pytest.mark.parametrize("dpi", [96, 120, 150, 200])
def test_margins_are_uneven_and_bounded_by_dpi(dpi):
    margins = [sample_margins(random.Random(seed), dpi) for seed in range(300)]
    limit = round(MAX_MARGIN_INCH * dpi)
    assert all(0 <= side <= limit for m in margins for side in m)
    assert sum(len(set(m)) > 1 for m in margins) > 250  # sides differ almost always
    assert any(max(m) <= limit // 8 for m in margins)  # some snips are tight


@pytest.mark.parametrize(
    ("themes", "expected"),
    [
        (["light"], {"light"}),
        (["dark", "sepia"], {"dark", "sepia"}),
        (list(THEMES), set(THEMES)),
    ],
)
def test_item_styles_use_only_the_chosen_themes(themes, expected):
    styles = [
        sample_item_style(random.Random(seed), 120, theme_weights(themes))
        for seed in range(300)
    ]
    assert {s.theme.name for s in styles} == expected
    assert {s.size for s in styles} <= set(SIZE_WEIGHTS)
    assert any(s.blur for s in styles) and any(s.jpeg_quality for s in styles)
    assert any(not s.blur and not s.jpeg_quality for s in styles)


@pytest.mark.parametrize("theme", THEMES)
def test_finish_image_pads_and_colours(theme):
    grey = Image.new("L", (20, 10), 255)
    grey.paste(0, (5, 2, 15, 8))  # a black block of "ink"
    colours = sample_theme(random.Random(0), theme)
    style = ItemStyle(
        "normalsize", True, colours, (3, 4, 5, 6), blur=0.0, jpeg_quality=0
    )
    image = finish_image(grey, style)
    assert image.mode == "RGB" and image.size == (20 + 3 + 5, 10 + 4 + 6)
    assert image.getpixel((0, 0)) == colours.paper
    assert image.getpixel((3 + 10, 4 + 5)) == colours.ink

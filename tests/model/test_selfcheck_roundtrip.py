"""Render round-trip: ink masks, blob counts, layout comparison and its region."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from model.selfcheck import roundtrip


@pytest.mark.parametrize(
    ("latex", "mathtext"),
    [
        (r"\dfrac{a}{b}", r"\frac{a}{b}"),
        (r"\text{if } x", r"\mathrm{if } x"),
        (r"\begin{array}{cc} a & b \end{array}", r"a \quad b"),
        (r"\left( x \right)", r"\left( x \right)"),
        (r"\displaystyle\sum_i", r"\sum_i"),
        (r"\bigl( x \bigr)", "( x )"),
    ],
)
def test_to_mathtext(latex, mathtext):
    assert roundtrip.to_mathtext(latex) == mathtext


def blocks(boxes, size=(120, 40), ink=0, paper=255):
    image = Image.new("L", size, paper)
    draw = ImageDraw.Draw(image)
    for box in boxes:
        draw.rectangle(box, fill=ink)
    return image


@pytest.mark.parametrize(("ink", "paper"), [(0, 255), (230, 30), (90, 240)])
def test_ink_of_finds_the_box_in_any_theme(ink, paper):
    found = roundtrip.ink_of(blocks([(10, 5, 29, 24), (50, 10, 69, 30)], ink=ink,
                                    paper=paper))
    assert found.box == (10, 5, 70, 31)
    assert found.mask.shape == (26, 60)
    assert found.size == (120, 40)


def test_blank_image_has_no_ink():
    assert roundtrip.ink_of(blocks([])) is None


@pytest.mark.parametrize(
    ("boxes", "count"),
    [
        ([(0, 0, 3, 3)], 1),
        ([(0, 0, 3, 3), (10, 0, 13, 3)], 2),
        ([(0, 0, 3, 3), (4, 4, 6, 6)], 1),  # touching diagonally is one blob
        ([(0, 0, 2, 10), (6, 0, 8, 10), (0, 8, 8, 10)], 1),  # a U joins at the bottom
        ([(0, 0, 1, 1), (5, 0, 6, 1), (10, 0, 11, 1), (0, 6, 11, 7)], 4),
    ],
)
def test_components(boxes, count):
    mask = np.asarray(blocks(boxes, size=(20, 12))) < 128
    assert roundtrip.components(mask) == count


def test_same_layout_matches_and_missing_ink_is_located():
    snip = roundtrip.ink_of(blocks([(10, 10, 20, 30), (40, 10, 50, 30), (70, 10, 80, 30),
                                    (100, 10, 110, 30)], size=(140, 40)))
    same = roundtrip.compare(snip, snip)
    assert same.features["rt_missing"] == 0 and same.features["rt_extra"] == 0
    assert same.features["rt_columns"] == pytest.approx(1.0)
    assert same.region is None
    # The reading lacks the last symbol (its box keeps the width: aspect alone is silent).
    lacking = roundtrip.ink_of(blocks([(10, 10, 20, 30), (40, 10, 50, 30),
                                       (70, 10, 80, 30), (109, 29, 110, 30)],
                                      size=(140, 40)))
    differs = roundtrip.compare(snip, lacking)
    assert differs.features["rt_missing"] > 0.1
    x0, y0, x1, y1 = differs.region
    assert 0.55 < x0 < x1 and x1 <= 1.0 and x0 < 100 / 140 < x1  # around the last one
    assert 0 <= y0 < y1 <= 1


def test_round_trip_renders_with_mathtext():
    pytest.importorskip("matplotlib")
    drawn = roundtrip.render_mathtext(r"\frac{a}{b}+x^2")
    assert drawn is not None
    snip = roundtrip.ink_of(drawn)
    right = roundtrip.round_trip(snip, r"\frac{a}{b}+x^2").features
    wrong = roundtrip.round_trip(snip, r"a+b+x^{2}+y").features
    assert right["rt_failed"] == 0 and right["rt_missing"] + right["rt_extra"] < 0.01
    assert wrong["rt_missing"] + wrong["rt_extra"] + wrong["rt_aspect"] > 0.2
    assert roundtrip.round_trip(snip, r"\frac{a}").features["rt_failed"] == 1.0
    assert roundtrip.round_trip(None, "x").features == roundtrip.FAILED

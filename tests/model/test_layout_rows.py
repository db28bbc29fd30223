"""Table tests for finding the text rows of a multi-line formula (model/layout/rows.py).

Each case is an ink mask drawn from boxes: glyph-like blocks, thin long strokes (fraction
bars, an operator's edges), hairline gaps.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from model.layout.rows import MAX_ROWS, Band, ink_bands, ink_mask, row_boxes, text_rows

WIDTH = 200


def mask(*boxes, height=200):
    """Ink mask with these (x0, y0, x1, y1) boxes inked (x1, y1 exclusive)."""
    ink = np.zeros((height, WIDTH), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        ink[y0:y1, x0:x1] = True
    return ink


def glyphs(y0, y1, x0=10, x1=190, width=8, gap=4):
    """A run of glyph blocks along a row."""
    return [(x, y0, x + width, y1) for x in range(x0, x1 - width, width + gap)]


def fraction(x0, x1, top):
    """Numerator, bar and denominator of a display fraction, 3-px gaps between them."""
    return [*glyphs(top, top + 10, x0 + 2, x1 - 2), (x0, top + 13, x1, top + 15),
            *glyphs(top + 18, top + 28, x0 + 2, x1 - 2)]


CASES = {
    "blank": ([], []),
    "one row": (glyphs(20, 35), [(20, 35)]),
    "two rows": (glyphs(20, 35) + glyphs(50, 65), [(20, 35), (50, 65)]),
    "three rows, the last short": (
        glyphs(20, 35) + glyphs(50, 65) + glyphs(80, 95, x1=60), [(20, 35), (50, 65), (80, 95)]),
    "a fraction is one row": (
        glyphs(33, 40, x1=60) + fraction(70, 130, 20), [(20, 48)]),
    "two rows with fractions": (
        glyphs(33, 40, x1=60) + fraction(70, 130, 20)
        + glyphs(73, 80, x1=60) + fraction(70, 130, 60),
        [(20, 48), (60, 88)]),
    "a hairline gap is not a row break": (
        glyphs(20, 30) + glyphs(31, 40), [(20, 40)]),
    "a sum's limits belong to it": (
        [(20, 30, 50, 33), (20, 45, 50, 48), (46, 33, 48, 45),  # sum sign: edges, stem
         *glyphs(22, 27, 26, 44, width=5, gap=2),  # upper limit above its top edge
         *glyphs(51, 56, 24, 46, width=5, gap=2),  # lower limit under its bottom edge
         *glyphs(34, 44, 60, 190)],
        [(22, 56)]),
    "a stray dot joins the nearest row": (
        [*glyphs(20, 35), (100, 39, 102, 41), *glyphs(60, 75)], [(20, 41), (60, 75)]),
}


@pytest.mark.parametrize(("boxes", "expected"), CASES.values(), ids=CASES.keys())
def test_text_rows(boxes, expected):
    assert [(b.top, b.bottom) for b in text_rows(mask(*boxes))] == expected


def test_too_many_rows_come_back_as_one():
    boxes = [box for i in range(MAX_ROWS + 1) for box in glyphs(4 + 10 * i, 10 + 10 * i)]
    assert text_rows(mask(*boxes, height=10 * (MAX_ROWS + 2))) == [Band(4, 10 * MAX_ROWS + 10)]


@pytest.mark.parametrize(("rows", "expected"), [
    ([], []),
    ([3, 4, 5, 9], [(3, 6), (9, 10)]),
    ([0, 199], [(0, 1), (199, 200)]),
])
def test_ink_bands(rows, expected):
    ink = np.zeros((200, WIDTH), dtype=bool)
    ink[rows, 5] = True
    assert [(b.top, b.bottom) for b in ink_bands(ink)] == expected


@pytest.mark.parametrize(("bg", "ink"), [(255, 0), (30, 230), (236, 90)],
                         ids=["light", "dark", "sepia"])
def test_row_boxes_of_a_snip_in_any_theme(bg, ink):
    image = Image.new("L", (WIDTH, 100), bg)
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in glyphs(20, 35) + glyphs(55, 70, x1=120):
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=ink)
    assert ink_mask(image.convert("RGB")).sum() > 0
    # rows 20-35 and 55-70; each box takes half the gap between them and the image's edge
    assert row_boxes(image.convert("RGB")) == [(0, 0, WIDTH, 45), (0, 45, WIDTH, 100)]


def test_one_row_is_one_box_flush_to_its_ink():
    image = Image.new("L", (WIDTH, 100), 255)
    ImageDraw.Draw(image).rectangle((10, 20, 150, 34), fill=0)
    assert row_boxes(image) == [(0, 20, WIDTH, 35)]

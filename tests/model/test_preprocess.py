"""Table tests for pre-processing real snips."""

import images_factory as f
import pytest
from PIL import Image, ImageChops, ImageDraw

from model.errors import BadImageError
from model.images import open_image_bytes
from model.preprocess import (
    background_level,
    crop_to_ink,
    flatten_alpha,
    letterbox,
    prepare,
    to_dark_on_light,
    upscale_tiny,
)


def ink_image(size, box, bg=255, ink=0):
    image = Image.new("L", size, bg)
    ImageDraw.Draw(image).rectangle(box, fill=ink)
    return image


@pytest.mark.parametrize(("bg", "ink", "inverted"), [
    (255, 0, False),   # light theme
    (20, 230, True),   # dark mode
    (240, 60, False),  # sepia-ish grey paper
])
def test_dark_mode_is_inverted(bg, ink, inverted):
    image = ink_image((100, 40), (10, 10, 90, 30), bg, ink)
    out = to_dark_on_light(image)
    assert (background_level(out) > 128) and ((out is not image) == inverted)


@pytest.mark.parametrize(("size", "box", "expected_ink"), [
    ((400, 200), (100, 80, 300, 120), (201, 41)),
    ((50, 50), (5, 5, 44, 44), (40, 40)),
    ((300, 60), (10, 5, 20, 55), (11, 51)),
])
def test_crop_to_ink_keeps_margin(size, box, expected_ink):
    out = crop_to_ink(ink_image(size, box))
    margin = max(4, round(expected_ink[1] * 0.12))
    assert out.size == (expected_ink[0] + 2 * margin, expected_ink[1] + 2 * margin)


def test_blank_image_is_an_error():
    with pytest.raises(BadImageError, match="blank"):
        crop_to_ink(Image.new("L", (200, 50), 255))


@pytest.mark.parametrize(
    ("size", "factor"), [((40, 10), 3), ((40, 8), 3), ((100, 30), 1), ((10, 1), 8)]
)
def test_upscale_tiny(size, factor):
    assert upscale_tiny(Image.new("L", size, 255)).size == (size[0] * factor, size[1] * factor)


@pytest.mark.parametrize(("size", "aspect", "expected"), [
    ((400, 100), 1.0, (400, 400)),
    ((100, 400), 1.0, (400, 400)),
    ((300, 100), 4.0, (400, 100)),
    ((200, 200), 1.0, (200, 200)),
])
def test_letterbox_pads_never_squashes(size, aspect, expected):
    image = Image.new("L", size, 0)
    out = letterbox(image, aspect)
    assert out.size == expected
    assert out.histogram()[0] == size[0] * size[1]  # every content pixel kept


@pytest.mark.parametrize(("size", "aspect", "anchor", "content_box"), [
    ((100, 50), 8.0, "top-left", (0, 0, 100, 50)),
    ((100, 50), 8.0, "center", (150, 0, 250, 50)),
    ((800, 50), 8.0, "top-left", (0, 0, 800, 50)),  # already 16:1: taller, content on top
    ((800, 50), 8.0, "center", (0, 25, 800, 75)),
])
def test_letterbox_anchor_places_the_content(size, aspect, anchor, content_box):
    out = letterbox(Image.new("L", size, 0), aspect, anchor=anchor)
    assert ImageChops.invert(out).getbbox() == content_box


def test_letterbox_refuses_an_unknown_anchor():
    with pytest.raises(ValueError, match="anchor"):
        letterbox(Image.new("L", (10, 10)), 2.0, anchor="middle")


@pytest.mark.parametrize("ink", ["black", "white"])
def test_transparent_snips_keep_their_ink(ink):
    flat = flatten_alpha(open_image_bytes(f.transparent_png(ink)))
    assert flat.mode == "RGB"
    out = prepare(flat)
    assert background_level(out.convert("L")) > 200
    assert out.convert("L").getextrema()[0] < 100


def test_prepare_returns_dark_on_light_rgb_cropped():
    snip = f.equation((800, 300), fg="white", bg=(30, 30, 30))
    out = prepare(snip)
    assert out.mode == "RGB" and out.size[0] < 800 and out.size[1] < 300
    assert background_level(out.convert("L")) == 255

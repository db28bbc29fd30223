"""Pre-processing real snips into what the models were trained on: dark ink on white.

Pure PIL -> PIL functions. Snips differ from training images in ways that wreck
recognition: transparent PNGs, dark-mode screenshots, generous or uneven margins, tiny
crops from a laptop screen, and very wide formulas that square-input models squash.
Training applies the same :func:`prepare`, so both sides see the same pixels.
"""

from __future__ import annotations

import math

from PIL import Image, ImageOps

from model.errors import BadImageError
from model.protocol import BLANK_REASON

# Ink is anything this much darker than the background (0-255 scale); screen
# anti-aliasing and JPEG noise stay below it.
INK_THRESHOLD = 60
MIN_INK_HEIGHT = 24  # px; smaller glyphs lose sub/superscripts after resizing
MAX_UPSCALE = 8
MAX_SIDE = 4096


def flatten_alpha(image: Image.Image) -> Image.Image:
    """Composite transparency onto a background that keeps the ink visible.

    Dark ink goes onto white; light ink (a dark-theme export with a transparent
    background) goes onto black, and :func:`to_dark_on_light` inverts it afterwards.
    """
    if image.mode not in ("RGBA", "LA", "PA"):
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] == 255:
        return rgba.convert("RGB")
    grey = rgba.convert("L")
    mask = alpha.point(lambda a: 255 if a > 127 else 0)
    stat_sum = sum(v * c for v, c in enumerate(grey.histogram(mask)))
    count = max(sum(grey.histogram(mask)), 1)
    background = (0, 0, 0) if stat_sum / count > 127 else (255, 255, 255)
    base = Image.new("RGB", rgba.size, background)
    base.paste(rgba, mask=alpha)
    return base


def background_level(grey: Image.Image) -> int:
    """The background's grey level: the median of the image's border pixels."""
    w, h = grey.size
    pixels = grey.load()
    border = [pixels[x, 0] for x in range(w)] + [pixels[x, h - 1] for x in range(w)]
    border += [pixels[0, y] for y in range(h)] + [pixels[w - 1, y] for y in range(h)]
    border.sort()
    return border[len(border) // 2]


def to_dark_on_light(grey: Image.Image) -> Image.Image:
    """Invert dark-mode snips (light text on a dark background)."""
    return ImageOps.invert(grey) if background_level(grey) < 128 else grey


def normalise_background(grey: Image.Image) -> Image.Image:
    """Stretch so the background is white: sepia and grey themes become paper-white."""
    bg = background_level(grey)
    if bg >= 250 or bg < 128:
        return grey
    scale = 255.0 / bg
    return grey.point(lambda v: min(255, round(v * scale)))


def dark_on_white(grey: Image.Image) -> Image.Image:
    """Any viewer theme as dark ink on a white background."""
    return normalise_background(to_dark_on_light(grey))


def ink_pixels(grey: Image.Image) -> Image.Image:
    """Ink: pixels clearly darker than the background (255), the rest 0."""
    bg = background_level(grey)
    return grey.point(lambda v: 255 if bg - v > INK_THRESHOLD else 0)


def ink_bbox(grey: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of pixels clearly darker than the background, or None if blank."""
    return ink_pixels(grey).getbbox()


def crop_to_ink(
    grey: Image.Image, margin_frac: float = 0.12, min_margin: int = 4
) -> Image.Image:
    """Crop to the ink with a margin proportional to its height, on white."""
    box = ink_bbox(grey)
    if box is None:
        raise BadImageError("no equation found: the image is blank", reason=BLANK_REASON)
    _left, top, _right, bottom = box
    cropped = grey.crop(box)
    margin = max(min_margin, round((bottom - top) * margin_frac))
    return ImageOps.expand(cropped, border=margin, fill=255)


def upscale_tiny(grey: Image.Image, min_height: int = MIN_INK_HEIGHT) -> Image.Image:
    """Enlarge tiny snips by a whole factor so glyph strokes survive resizing."""
    w, h = grey.size
    if h >= min_height:
        return grey
    factor = min(MAX_UPSCALE, math.ceil(min_height / h))
    return grey.resize((w * factor, h * factor), Image.Resampling.LANCZOS)


def limit_size(image: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    if max(image.size) <= max_side:
        return image
    copy = image.copy()
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return copy


ANCHORS = ("center", "top-left")


def letterbox(image: Image.Image, aspect: float = 1.0, fill: int = 255,
              anchor: str = "center") -> Image.Image:
    """Pad (never squash) to ``width / height == aspect``.

    ``anchor`` places the content: centred (what square vision towers were trained on), or
    top-left, so a formula always starts at the same place on a wide canvas and a
    from-scratch decoder's first glance goes there.
    """
    if anchor not in ANCHORS:
        raise ValueError(f"anchor must be one of {', '.join(ANCHORS)}, not {anchor!r}")
    w, h = image.size
    target_w, target_h = max(w, math.ceil(h * aspect)), max(h, math.ceil(w / aspect))
    if (target_w, target_h) == (w, h):
        return image
    canvas = Image.new(
        image.mode, (target_w, target_h), fill if image.mode == "L" else (fill,) * 3
    )
    offset = (0, 0) if anchor == "top-left" else ((target_w - w) // 2, (target_h - h) // 2)
    canvas.paste(image, offset)
    return canvas


def prepare(image: Image.Image) -> Image.Image:
    """The full pipeline for a real snip; returns RGB, dark ink on white, cropped."""
    grey = dark_on_white(limit_size(flatten_alpha(image)).convert("L"))
    grey = upscale_tiny(crop_to_ink(grey))
    return grey.convert("RGB")

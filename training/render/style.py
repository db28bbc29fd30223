"""Random look of rendered formulas: fonts, sizes, DPI, themes, margins, noise.

Everything here is a pure function of a ``random.Random`` (sampling) or of an image
(finishing), so a render is reproducible from ``--seed`` alone and the sampling can
be tested with plain tables.
"""

from __future__ import annotations

import io
import logging
import random
from dataclasses import dataclass

from PIL import Image, ImageFilter

logger = logging.getLogger(__name__)

# Math font packages that ship with texlive-latex-base/-recommended/-fonts-recommended.
# "cm" means no package: LaTeX's default Computer Modern.
FONT_WEIGHTS: dict[str, float] = {
    "cm": 0.40,
    "mathptmx": 0.12,
    "txfonts": 0.12,
    "mathpazo": 0.18,
    "pxfonts": 0.18,
}
# Body sizes of the article class and size switches: together with the DPI they give
# the spread of glyph heights seen in screenshots of PDFs and web pages.
BASE_POINTS = (10, 11, 12)
SIZE_WEIGHTS: dict[str, float] = {
    "normalsize": 0.5,
    "small": 0.1,
    "large": 0.25,
    "Large": 0.15,
}
THEMES = ("light", "dark", "sepia")
THEME_WEIGHTS: dict[str, float] = {"light": 0.6, "dark": 0.25, "sepia": 0.15}
DEFAULT_DPI_RANGE = (96, 200)
# Margins are drawn per side, in inches, so they scale with the DPI like real snips.
MAX_MARGIN_INCH = 0.3
DISPLAY_STYLE_PROBABILITY = 0.75
BLUR_PROBABILITY = 0.12
JPEG_PROBABILITY = 0.12


@dataclass(frozen=True)
class BatchStyle:
    """Look shared by one LaTeX document (font package, body size, dvipng DPI)."""

    font: str
    points: int
    dpi: int


@dataclass(frozen=True)
class Theme:
    name: str
    ink: tuple[int, int, int]
    paper: tuple[int, int, int]


@dataclass(frozen=True)
class ItemStyle:
    """Look of one formula inside a batch."""

    size: str
    display: bool
    theme: Theme
    margins: tuple[int, int, int, int]  # left, top, right, bottom in pixels
    blur: float  # Gaussian radius in pixels, 0 = none
    jpeg_quality: int  # 0 = no JPEG round trip


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def theme_weights(themes: tuple[str, ...] | list[str]) -> dict[str, float]:
    """Default weights restricted to ``themes`` (a user's --themes choice)."""
    unknown = [t for t in themes if t not in THEMES]
    if unknown or not themes:
        raise ValueError(f"unknown theme(s) {unknown}; choose from {', '.join(THEMES)}")
    return {t: THEME_WEIGHTS[t] for t in themes}


def sample_batch_style(
    rng: random.Random,
    dpi_range: tuple[int, int] = DEFAULT_DPI_RANGE,
    fonts: dict[str, float] = FONT_WEIGHTS,
) -> BatchStyle:
    low, high = dpi_range
    return BatchStyle(
        font=_pick(rng, fonts),
        points=rng.choice(BASE_POINTS),
        dpi=rng.randint(low, high),
    )


def _jitter(
    rng: random.Random, rgb: tuple[int, int, int], spread: int
) -> tuple[int, ...]:
    shift = rng.randint(-spread, spread)  # one shift for all channels keeps the hue
    return tuple(min(255, max(0, c + shift)) for c in rgb)


def sample_theme(rng: random.Random, name: str) -> Theme:
    """Colours of a theme, jittered a little so the model never sees one exact pair."""
    if name == "light":
        return Theme(
            name, _jitter(rng, (18, 18, 18), 18), _jitter(rng, (250, 250, 250), 5)
        )
    if name == "dark":  # editor and dark-mode PDF viewers: light text on a dark grey
        ink = rng.choice(
            [(230, 230, 230), (212, 212, 212), (255, 255, 255), (220, 223, 228)]
        )
        paper = rng.choice([(30, 30, 30), (40, 44, 52), (18, 18, 18), (43, 43, 43)])
        return Theme(name, _jitter(rng, ink, 12), _jitter(rng, paper, 10))
    if name == "sepia":  # reader apps' sepia mode: brown ink on cream
        return Theme(
            name, _jitter(rng, (91, 70, 54), 15), _jitter(rng, (244, 236, 216), 6)
        )
    raise ValueError(f"unknown theme {name!r}")


def sample_margins(rng: random.Random, dpi: int) -> tuple[int, int, int, int]:
    """Uneven margins: a snip is rarely centred; a quarter are (almost) tight."""
    limit = max(1, round(MAX_MARGIN_INCH * dpi))
    if rng.random() < 0.25:
        limit = max(1, limit // 8)
    return tuple(rng.randint(0, limit) for _ in range(4))


def sample_item_style(
    rng: random.Random, dpi: int, themes: dict[str, float] = THEME_WEIGHTS
) -> ItemStyle:
    blur = rng.uniform(0.3, 0.9) if rng.random() < BLUR_PROBABILITY else 0.0
    jpeg = rng.randint(55, 90) if rng.random() < JPEG_PROBABILITY else 0
    return ItemStyle(
        size=_pick(rng, SIZE_WEIGHTS),
        display=rng.random() < DISPLAY_STYLE_PROBABILITY,
        theme=sample_theme(rng, _pick(rng, themes)),
        margins=sample_margins(rng, dpi),
        blur=blur,
        jpeg_quality=jpeg,
    )


def colourise(grey: Image.Image, theme: Theme) -> Image.Image:
    """Map black-on-white dvipng output to the theme's ink and paper, keeping the
    anti-aliasing."""
    alpha = grey.convert("L").point(lambda v: 255 - v)  # ink coverage
    paper = Image.new("RGB", grey.size, theme.paper)
    ink = Image.new("RGB", grey.size, theme.ink)
    return Image.composite(ink, paper, alpha)


def finish_image(grey: Image.Image, style: ItemStyle) -> Image.Image:
    """Colour, pad, blur and compress one tightly cropped formula image."""
    image = colourise(grey, style.theme)
    left, top, right, bottom = style.margins
    canvas = Image.new(
        "RGB",
        (image.width + left + right, image.height + top + bottom),
        style.theme.paper,
    )
    canvas.paste(image, (left, top))
    if style.blur:
        canvas = canvas.filter(ImageFilter.GaussianBlur(style.blur))
    if style.jpeg_quality:  # screenshots pasted through chat apps and web pages
        buffer = io.BytesIO()
        canvas.save(buffer, format="JPEG", quality=style.jpeg_quality)
        canvas = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return canvas


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()

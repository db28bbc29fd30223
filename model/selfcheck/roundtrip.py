"""Render round-trip: draw the reading, bring it to the snip's scale and compare ink
layout (where ink is, not pixel values), and find the most different region.

The render is matplotlib's mathtext (the app's preview renderer, offline, ~10-40 ms): a
different font from the snip, so the comparison is deliberately coarse. Both images are
reduced to an ink mask cropped to its bounding box, resampled to one small frame whose
height is fixed and whose width follows the snip, and compared by column and row ink
profiles, a coarse ink grid with one cell of tolerance, the aspect ratio and the number
of connected ink blobs. Numpy and PIL; never Qt.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

from model.mathtext import to_mathtext

INK_DIFFERENCE = 60  # grey levels from the background that count as ink (preprocess's)
FRAME_HEIGHT = 24  # px of the comparison frame; cells are CELL x CELL
CELL = 4
MAX_FRAME_WIDTH = 480
RENDER_PT = 24.0
RENDER_DPI = 100
# Components are counted on a mask of this height: enough to keep x and y apart,
# small enough that a pure-Python labelling stays within a few milliseconds.
COMPONENT_HEIGHT = 40

_RENDER_LOCK = threading.Lock()  # mathtext's parser and font caches are global


def render_mathtext(latex: str) -> Image.Image | None:
    """The reading drawn black on white (grey), or None if mathtext cannot draw it.

    Straight from mathtext's raster output: ``math_to_image`` parses the text twice and
    goes through a figure and a PNG, about 2.5x the time for the same glyph bitmap."""
    text = to_mathtext(latex)
    if not text:
        return None
    try:
        from matplotlib.font_manager import FontProperties
    except ImportError:  # a worker-only install: the check goes on without a render
        return None

    prop = FontProperties(size=RENDER_PT, math_fontfamily="cm")
    try:
        with _RENDER_LOCK:
            coverage_map = np.asarray(_raster_parser().parse(
                f"${text}$", dpi=RENDER_DPI, prop=prop).image)
    except Exception:  # mathtext raises ValueError and pyparsing errors alike
        return None
    if coverage_map.size == 0:
        return None
    return Image.fromarray(255 - coverage_map.astype(np.uint8))


@functools.cache
def _raster_parser():
    """One raster parser for the process (it keeps its own cache of parsed text)."""
    from matplotlib.mathtext import MathTextParser

    return MathTextParser("agg")


@dataclass(frozen=True)
class Ink:
    """An image's ink: the boolean mask inside its bounding box, and that box in the
    image's pixels (x0, y0, x1, y1)."""

    mask: np.ndarray
    box: tuple[int, int, int, int]
    size: tuple[int, int]  # the whole image's (width, height)


def ink_of(image: Image.Image) -> Ink | None:
    """Ink against the background (the border's median, so dark themes work); None if
    the image is blank."""
    grey = np.asarray(image.convert("L"), dtype=np.int16)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    mask = np.abs(grey - int(np.median(border))) > INK_DIFFERENCE
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    return Ink(mask[box[1]:box[3], box[0]:box[2]], box, (grey.shape[1], grey.shape[0]))


def frame_width(mask: np.ndarray) -> int:
    """Comparison frame width: the snip's aspect at FRAME_HEIGHT, whole cells."""
    height, width = mask.shape
    cells = round(FRAME_HEIGHT * width / max(height, 1) / CELL)
    return int(min(max(cells, 2), MAX_FRAME_WIDTH // CELL) * CELL)


def coverage(mask: np.ndarray, width: int, height: int = FRAME_HEIGHT) -> np.ndarray:
    """Ink share per pixel of a (height, width) frame (area resampling)."""
    image = Image.fromarray(mask.astype(np.uint8) * 255)
    return np.asarray(image.resize((width, height), Image.Resampling.BOX),
                      dtype=np.float32) / 255.0


def _profile_correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 1e-9 else 0.0


def _smooth(profile: np.ndarray) -> np.ndarray:
    return np.convolve(np.pad(profile, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")


def cells(frame: np.ndarray) -> np.ndarray:
    height, width = frame.shape
    return frame.reshape(height // CELL, CELL, width // CELL, CELL).mean(axis=(1, 3))


def _dilate(grid: np.ndarray) -> np.ndarray:
    """Max over each cell and its 8 neighbours: one cell of placement tolerance."""
    padded = np.pad(grid, 1)
    rows, cols = grid.shape
    return np.max([padded[i:i + rows, j:j + cols] for i in range(3) for j in range(3)],
                  axis=0)


def components(mask: np.ndarray) -> int:
    """8-connected ink blobs, counted on a mask reduced to COMPONENT_HEIGHT rows."""
    height, width = mask.shape
    if height > COMPONENT_HEIGHT:
        scale = COMPONENT_HEIGHT / height
        small = Image.fromarray(mask.astype(np.uint8) * 255).resize(
            (max(1, round(width * scale)), COMPONENT_HEIGHT), Image.Resampling.BOX)
        mask = np.asarray(small) > 64
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    previous: list[tuple[int, int, int]] = []  # (start, end, label) runs of the row above
    label = 0
    for row in mask:
        padded = np.concatenate([[0], row.astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(padded))
        runs = []
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            parent[label] = label
            for p_start, p_end, p_label in previous:  # 8-connected: touch diagonally
                if p_start <= end and start <= p_end:
                    root_a, root_b = find(label), find(p_label)
                    parent[max(root_a, root_b)] = min(root_a, root_b)
            runs.append((int(start), int(end), label))
            label += 1
        previous = runs
    return len({find(x) for x in parent})


@dataclass(frozen=True)
class Comparison:
    features: dict[str, float]
    # Most different region, as (x0, y0, x1, y1) in 0..1 of the whole snip, or None.
    region: tuple[float, float, float, float] | None


# Values a failed render counts as: as different as a comparison gets.
FAILED = {"rt_failed": 1.0, "rt_aspect": 1.0, "rt_columns": 0.0, "rt_rows": 0.0,
          "rt_missing": 0.5, "rt_extra": 0.5, "rt_components": 1.0}


def compare(snip: Ink, rendered: Ink) -> Comparison:
    """Ink-layout differences between the snip and the rendered reading."""
    width = frame_width(snip.mask)
    a, b = coverage(snip.mask, width), coverage(rendered.mask, width)
    aspect = abs(np.log((rendered.mask.shape[1] / rendered.mask.shape[0])
                        / (snip.mask.shape[1] / snip.mask.shape[0])))
    grid_a, grid_b = cells(a), cells(b)
    missing = np.clip(grid_a - _dilate(grid_b), 0, None)  # snip ink the render lacks
    extra = np.clip(grid_b - _dilate(grid_a), 0, None)  # rendered ink the snip lacks
    scale = max(float(grid_a.mean()), 1e-3)
    snip_blobs = components(snip.mask)
    # The render at the snip's ink height, so blob counts compare like with like.
    height = snip.mask.shape[0]
    rendered_width = max(1, round(rendered.mask.shape[1] * height / rendered.mask.shape[0]))
    rendered_blobs = components(coverage(rendered.mask, rendered_width, height) > 0.5)
    features = {
        "rt_failed": 0.0,
        "rt_aspect": float(min(aspect, 1.0)),
        # Per cell column, smoothed: fonts differ in glyph shape, not in where the
        # ink of each symbol sits.
        "rt_columns": _profile_correlation(_smooth(grid_a.sum(axis=0)),
                                           _smooth(grid_b.sum(axis=0))),
        "rt_rows": _profile_correlation(_smooth(a.sum(axis=1)), _smooth(b.sum(axis=1))),
        "rt_missing": float(missing.mean() / scale),
        "rt_extra": float(extra.mean() / scale),
        "rt_components": float(min(abs(np.log((rendered_blobs + 1) / (snip_blobs + 1))), 1.0)),
    }
    return Comparison(features, _region(missing + extra, snip))


def _region(difference: np.ndarray, snip: Ink) -> tuple[float, float, float, float] | None:
    """The window of cell columns (about a fifth of the formula, at least 3 cells) with
    the most difference, mapped back to the whole snip in 0..1."""
    per_column = difference.sum(axis=0)
    if per_column.max() <= 0.05:
        return None
    span = min(len(per_column), max(3, len(per_column) // 5))
    sums = np.convolve(per_column, np.ones(span), mode="valid")
    first = int(np.argmax(sums))
    x0, y0, x1, y1 = snip.box
    cell_width = (x1 - x0) / len(per_column)
    width, height = snip.size
    return (round((x0 + first * cell_width) / width, 4), round(y0 / height, 4),
            round((x0 + (first + span) * cell_width) / width, 4), round(y1 / height, 4))


def round_trip(snip: Ink | None, latex: str) -> Comparison:
    """Render ``latex`` and compare it with the snip's ink."""
    drawn = render_mathtext(latex) if snip is not None else None
    rendered = ink_of(drawn) if drawn is not None else None
    if snip is None or rendered is None:
        return Comparison(dict(FAILED), None)
    return compare(snip, rendered)

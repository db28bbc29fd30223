"""Where the text rows of a multi-line formula lie: pure numpy geometry.

The encoder reads a 64-pixel-high canvas. A five-row ``aligned`` block squeezed into it
leaves glyphs a few pixels high, and the model makes rows up. Cut into its rows, each row
is read at the size single-line formulas are read at (``model.layout.compose`` puts the
rows back together).

A row is a horizontal band of ink between blank pixel rows, except that a display
formula's own pieces also sit between blank rows: a fraction's numerator above its bar,
its denominator below, a big operator's limits. Those pieces are told apart by what faces
them across the gap: nearly every column of a numerator meets a horizontal stroke (the
bar, an operator's top edge) when followed straight down, while the columns of a real row
meet whatever glyph tops happen to lie below them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from PIL import Image

from model.preprocess import dark_on_white, flatten_alpha, ink_pixels

# A gap narrower than this (px, or this share of the median band height if larger) is
# inside one row: anti-aliasing and accents leave hairline gaps that are not line breaks.
MIN_GAP_PX = 2
MIN_GAP_SHARE = 0.1
# A horizontal run of ink at least this long (px, or this share of the median band
# height if larger) is a stroke a neighbouring piece can hang on: a fraction bar, the
# edge of a sum sign.
MIN_STROKE_PX = 5
MIN_STROKE_SHARE = 0.3
# ...and at most this high (px, or this share of the median band height if larger):
# a bar is a rule of about 0.4 pt, an operator's edge a little more.
MAX_STROKE_PX = 3
MAX_STROKE_SHARE = 0.15
# Share of a band's ink columns that must meet such a stroke across the gap for the
# band to belong to its neighbour.
ATTACHED_SHARE = 0.9
# A band this much lower than the median is a stray mark (a dot, a prime), not a row.
# Not higher: beside rows holding fractions, a row of digits is 0.4 of the median.
MIN_ROW_SHARE = 0.2
MAX_ROWS = 16  # beyond this the image is not a formula block worth reading row by row


@dataclass(frozen=True)
class Band:
    top: int  # first inked pixel row
    bottom: int  # one past the last

    @property
    def height(self) -> int:
        return self.bottom - self.top


def ink_bands(ink: np.ndarray) -> list[Band]:
    """Maximal runs of pixel rows that hold ink, top to bottom."""
    inked = np.flatnonzero(ink.any(axis=1))
    if inked.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(inked) > 1)
    starts = np.concatenate(([inked[0]], inked[breaks + 1]))
    ends = np.concatenate((inked[breaks], [inked[-1]])) + 1
    return [Band(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def _vertical_runs(ink: np.ndarray) -> np.ndarray:
    """For each ink pixel, the length of the vertical ink run it lies in (0 off ink)."""
    height = ink.shape[0]
    down = np.zeros(ink.shape, dtype=np.int32)  # run length so far, from the top
    for y in range(height):
        down[y] = (down[y - 1] + 1) * ink[y] if y else ink[y]
    runs = down.copy()
    for y in range(height - 2, -1, -1):  # carry each run's full length back up it
        runs[y] = np.where(ink[y] & ink[y + 1], runs[y + 1], runs[y])
    return runs


def stroke_mask(ink: np.ndarray, min_length: int, max_thickness: int) -> np.ndarray:
    """Pixels of thin horizontal strokes: runs of ink at least ``min_length`` long whose
    pixels are at most ``max_thickness`` high (a glyph's body is not a stroke)."""
    thin = ink & (_vertical_runs(ink) <= max_thickness)
    mask = np.zeros_like(ink, dtype=bool)
    padded = np.pad(thin.astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    for y in np.flatnonzero(thin.any(axis=1)):
        starts = np.flatnonzero(edges[y] == 1)
        ends = np.flatnonzero(edges[y] == -1)
        for s, e in zip(starts, ends, strict=True):
            if e - s >= min_length:
                mask[y, s:e] = True
    return mask


def _first_ink(ink: np.ndarray, columns: np.ndarray, downward: bool) -> np.ndarray:
    """Row index of the first ink in each column, scanning down (or up); -1 if none."""
    view = ink[:, columns] if downward else ink[::-1, columns]
    hit = view.any(axis=0)
    first = view.argmax(axis=0)
    if not downward:
        first = ink.shape[0] - 1 - first
    return np.where(hit, first, -1)


def hangs_on(ink: np.ndarray, strokes: np.ndarray, piece: Band, other: Band) -> bool:
    """Whether nearly every ink column of ``piece`` meets a stroke of ``other`` when
    followed straight across the gap between them."""
    columns = np.flatnonzero(ink[piece.top:piece.bottom].any(axis=0))
    if columns.size == 0:
        return False
    downward = other.top >= piece.bottom
    region = slice(other.top, other.bottom)
    first = _first_ink(ink[region], columns, downward)
    met = first >= 0
    on_stroke = np.zeros_like(met)
    on_stroke[met] = strokes[region][first[met], columns[met]]
    return on_stroke.mean() >= ATTACHED_SHARE


def _merge(bands: list[Band], index: int) -> list[Band]:
    """Join band ``index`` with the one after it."""
    joined = Band(bands[index].top, bands[index + 1].bottom)
    return [*bands[:index], joined, *bands[index + 2:]]


def _join_pieces(ink: np.ndarray, bands: list[Band], min_gap: int,
                 strokes: np.ndarray) -> list[Band]:
    index = 0
    while index < len(bands) - 1:
        upper, lower = bands[index], bands[index + 1]
        if (lower.top - upper.bottom < min_gap
                or hangs_on(ink, strokes, upper, lower)
                or hangs_on(ink, strokes, lower, upper)):
            bands = _merge(bands, index)
            index = max(index - 1, 0)  # the joined band may now hang on its upper one
        else:
            index += 1
    return bands


def _absorb_marks(bands: list[Band], min_height: float) -> list[Band]:
    """Stray low bands join whichever neighbour is closer."""
    index = 0
    while len(bands) > 1 and index < len(bands):
        if bands[index].height >= min_height:
            index += 1
            continue
        gap_up = bands[index].top - bands[index - 1].bottom if index > 0 else None
        gap_down = (bands[index + 1].top - bands[index].bottom
                    if index + 1 < len(bands) else None)
        if gap_down is None or (gap_up is not None and gap_up <= gap_down):
            bands = _merge(bands, index - 1)
            index -= 1
        else:
            bands = _merge(bands, index)
    return bands


def text_rows(ink: np.ndarray) -> list[Band]:
    """The text rows of a formula image given as a boolean ink mask (True = ink).

    One band means a single row (or nothing could be told apart); the caller reads the
    image whole. More than ``MAX_ROWS`` also comes back as one band.
    """
    bands = ink_bands(ink)
    if len(bands) < 2:
        return bands
    median = float(np.median([b.height for b in bands]))
    min_gap = max(MIN_GAP_PX, round(MIN_GAP_SHARE * median))
    strokes = stroke_mask(ink, max(MIN_STROKE_PX, round(MIN_STROKE_SHARE * median)),
                          max(MAX_STROKE_PX, round(MAX_STROKE_SHARE * median)))
    bands = _join_pieces(ink, bands, min_gap, strokes)
    if len(bands) > 1:
        rows_median = float(np.median([b.height for b in bands]))
        bands = _absorb_marks(bands, MIN_ROW_SHARE * rows_median)
    if len(bands) > MAX_ROWS:
        return [Band(bands[0].top, bands[-1].bottom)]
    return bands


def ink_mask(image: Image.Image) -> np.ndarray:
    """Ink of a snip as ``model.preprocess`` sees it (any theme), at the snip's size."""
    return np.asarray(ink_pixels(dark_on_white(flatten_alpha(image).convert("L")))) > 0


def row_boxes(image: Image.Image) -> list[tuple[int, int, int, int]]:
    """Crop boxes (left, top, right, bottom) of the snip's text rows, full width, each
    with up to half the blank gap to its neighbours (and the image's own margin at the
    ends) as margin; one box or none when it is not several rows.

    The margin is background the reader can measure: pre-processing takes the
    background from a crop's border, and a row cut flush to its ink has a border of ink.
    """
    rows = text_rows(ink_mask(image))
    if len(rows) < 2:
        return [(0, row.top, image.width, row.bottom) for row in rows]
    splits = [(a.bottom + b.top) // 2 for a, b in pairwise(rows)]
    tops, bottoms = [0, *splits], [*splits, image.height]
    return [(0, top, image.width, bottom) for top, bottom in zip(tops, bottoms, strict=True)]

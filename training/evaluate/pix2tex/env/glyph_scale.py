r"""Glyph size of a snip and the scale that brings it to pix2tex's training size.

pix2tex was trained on formulas rendered at a roughly fixed glyph size; its optional
resizer net exists to undo the zoom of a user's snip. Without that net, we scale the
image ourselves: the glyph height is the upper quartile of the ink heights of the column
runs between blank columns (one run is about one glyph or a touching group). The upper
quartile, not the median: dots, primes, minus and equals signs are runs of a few pixels
and can be half of a formula (``i_0 \ldots i_j``); a fraction bar or a tall delimiter is
one odd run at the top among many.

numpy and Pillow only: this module is imported both by the comparison (our venv) and
by the pix2tex worker (pix2tex's own venv).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

INK_CONTRAST = 0.35  # share of the background-to-darkest (or lightest) range that is ink
GLYPH_QUANTILE = 75
MIN_SCALE, MAX_SCALE = 0.5, 2.0  # the zoom range of real snips; beyond it, a misreading


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """Boolean ink pixels of a grey image, light or dark theme.

    The background is the median of the border pixels (a snip's margin); ink is
    whatever lies far enough from it toward the opposite extreme."""
    grey = np.asarray(grey, dtype=np.float32)
    if grey.ndim != 2 or grey.size == 0:
        raise ValueError("ink_mask needs a non-empty 2-D grey image")
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    far = grey.max() if background < 128 else grey.min()
    spread = abs(far - background)
    if spread < 1:
        return np.zeros(grey.shape, dtype=bool)
    return np.abs(grey - background) > INK_CONTRAST * spread


def column_runs(has_ink: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of consecutive True values."""
    padded = np.concatenate([[False], np.asarray(has_ink, dtype=bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def glyph_height(grey: np.ndarray) -> float | None:
    """Upper-quartile ink height (px) of the column runs; None for an image without ink."""
    mask = ink_mask(grey)
    heights = []
    for start, end in column_runs(mask.any(axis=0)):
        rows = np.flatnonzero(mask[:, start:end].any(axis=1))
        heights.append(rows[-1] - rows[0] + 1)
    return float(np.percentile(heights, GLYPH_QUANTILE)) if heights else None


def scale_factor(measured: float | None, target: float) -> float:
    """Factor that brings ``measured`` glyph height to ``target``, clamped; 1 if unknown."""
    if measured is None or measured <= 0:
        return 1.0
    return float(min(MAX_SCALE, max(MIN_SCALE, target / measured)))


def scaled_to_glyph_height(image: Image.Image, target: float) -> tuple[Image.Image, float]:
    """``image`` resized so its glyph height is about ``target`` px, and the factor used."""
    factor = scale_factor(glyph_height(np.asarray(image.convert("L"))), target)
    if abs(factor - 1.0) < 0.02:
        return image, 1.0
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    resample = Image.Resampling.LANCZOS if factor < 1 else Image.Resampling.BICUBIC
    return image.resize(size, resample), factor

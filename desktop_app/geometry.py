"""Selection geometry: window-local logical rectangles -> screenshot pixels.

Pure functions on small dataclasses (no widgets). The crop is computed per screen from
window-local coordinates with ``image.width() / window.width()``: Qt 6 keeps each
screen's origin in device pixels while scaling its size, so global virtual-desktop
coordinates would leave gaps on mixed-DPI layouts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Below this many pixels on either side a drag is treated as a click, not a selection.
MIN_SELECTION_PX = 4


@dataclass(frozen=True)
class LogicalRect:
    """A rectangle in a window's logical (device-independent) coordinates."""

    x: float
    y: float
    width: float
    height: float

    @classmethod
    def from_points(cls, x0: float, y0: float, x1: float, y1: float) -> LogicalRect:
        """Normalised rectangle spanned by two drag points, in any order."""
        return cls(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))


@dataclass(frozen=True)
class PixelRect:
    """Half-open pixel rectangle [left, right) x [top, bottom) in an image."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def is_usable(self) -> bool:
        return self.width >= MIN_SELECTION_PX and self.height >= MIN_SELECTION_PX


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def logical_to_pixels(
    rect: LogicalRect, window_size: tuple[float, float], image_size: tuple[int, int]
) -> PixelRect:
    """Map a window-local selection onto the frozen screenshot shown in that window.

    Each axis scales by ``image / window``. Edges round outwards (floor the start,
    ceil the end) so a selection never loses a partly covered pixel row, then the
    result is clamped into the image.
    """
    win_w, win_h = window_size
    img_w, img_h = image_size
    if win_w <= 0 or win_h <= 0:
        raise ValueError("window size must be positive")
    sx, sy = img_w / win_w, img_h / win_h
    # round() first: 1.5009 * 333.0 must not become 500.0000001 -> ceil 501
    left = math.floor(round(rect.x * sx, 6))
    top = math.floor(round(rect.y * sy, 6))
    right = math.ceil(round((rect.x + rect.width) * sx, 6))
    bottom = math.ceil(round((rect.y + rect.height) * sy, 6))
    return PixelRect(
        _clamp(left, 0, img_w),
        _clamp(top, 0, img_h),
        _clamp(right, 0, img_w),
        _clamp(bottom, 0, img_h),
    )


def screen_for(point: tuple[int, int], screens: list[tuple[int, int, int, int]]) -> int:
    """Index of the screen (x, y, w, h) holding ``point``, else the nearest one.

    A point can fall outside every screen (a selection's centre in the gap of an
    L-shaped layout, a pointer reported at the far edge): the nearest screen is then
    the one the user is looking at.
    """
    if not screens:
        raise ValueError("no screens")
    px, py = point

    def distance(area: tuple[int, int, int, int]) -> float:
        x, y, w, h = area
        dx = max(x - px, 0, px - (x + w - 1))
        dy = max(y - py, 0, py - (y + h - 1))
        return math.hypot(dx, dy)

    return min(range(len(screens)), key=lambda i: distance(screens[i]))


def popup_position(
    anchor: tuple[int, int, int, int],
    popup_size: tuple[int, int],
    area: tuple[int, int, int, int],
    gap: int = 12,
) -> tuple[int, int]:
    """Top-left for a popup near ``anchor`` (x, y, w, h), inside ``area``.

    Prefers just below the selection, then above it, and finally clamps into the
    screen's available area (without panels and docks) so the popup is never
    off-screen. ``popup_size`` is the whole window, frame included; callers place
    again whenever the popup changes size, since a result is taller than "Recognising".
    """
    ax, ay, _aw, ah = anchor
    pw, ph = popup_size
    x0, y0, w, h = area
    x = ax
    below, above = ay + ah + gap, ay - gap - ph
    if below + ph <= y0 + h:
        y = below
    elif above >= y0:
        y = above
    else:
        y = y0 + h - ph
    x = _clamp(x, x0, max(x0, x0 + w - pw))
    y = _clamp(y, y0, max(y0, y0 + h - ph))
    return x, y


def keep_inside(
    position: tuple[int, int],
    popup_size: tuple[int, int],
    area: tuple[int, int, int, int],
) -> tuple[int, int]:
    """``position`` moved just enough for the popup to lie inside ``area`` (for a
    popup the user placed, which should stay where they put it)."""
    px, py = position
    pw, ph = popup_size
    x0, y0, w, h = area
    return (
        _clamp(px, x0, max(x0, x0 + w - pw)),
        _clamp(py, y0, max(y0, y0 + h - ph)),
    )

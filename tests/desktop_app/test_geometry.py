"""Pure geometry: window-local logical selections -> screenshot pixels."""

import pytest

from desktop_app.geometry import (
    LogicalRect,
    PixelRect,
    logical_to_pixels,
    popup_position,
)


@pytest.mark.parametrize(
    ("rect", "window", "image", "expected"),
    [
        # scale 1: identity
        (
            LogicalRect(10, 20, 30, 40),
            (800, 800),
            (800, 800),
            PixelRect(10, 20, 40, 60),
        ),
        # scale 2: every edge doubles
        (
            LogicalRect(10, 20, 30, 40),
            (400, 400),
            (800, 800),
            PixelRect(20, 40, 80, 120),
        ),
        # scale 1.25: 640 logical on 800 px; fractional edges round outwards
        (LogicalRect(1, 1, 3, 3), (640, 640), (800, 800), PixelRect(1, 1, 5, 5)),
        (
            LogicalRect(100, 100, 200, 40),
            (640, 640),
            (800, 800),
            PixelRect(125, 125, 375, 175),
        ),
        # scale 1.5 as Qt reports it on 800 px: 533 logical (ratio 1.5009...)
        (
            LogicalRect(0, 0, 533, 533),
            (533, 533),
            (800, 800),
            PixelRect(0, 0, 800, 800),
        ),
        (
            LogicalRect(100, 200, 100, 100),
            (533, 533),
            (800, 800),
            PixelRect(150, 300, 301, 451),
        ),
        # different x and y ratios (a window not covering the screen exactly)
        (
            LogicalRect(10, 10, 10, 10),
            (100, 200),
            (200, 200),
            PixelRect(20, 10, 40, 20),
        ),
        # clamped into the image when the drag leaves the window
        (LogicalRect(-5, -5, 20, 20), (100, 100), (200, 200), PixelRect(0, 0, 30, 30)),
        (
            LogicalRect(90, 90, 50, 50),
            (100, 100),
            (200, 200),
            PixelRect(180, 180, 200, 200),
        ),
    ],
)
def test_logical_to_pixels(rect, window, image, expected):
    assert logical_to_pixels(rect, window, image) == expected


def test_logical_to_pixels_rejects_empty_window():
    with pytest.raises(ValueError, match="window size"):
        logical_to_pixels(LogicalRect(0, 0, 1, 1), (0, 10), (10, 10))


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ((10, 10, 50, 30), LogicalRect(10, 10, 40, 20)),
        ((50, 30, 10, 10), LogicalRect(10, 10, 40, 20)),  # dragged up-left
        ((50, 10, 10, 30), LogicalRect(10, 10, 40, 20)),
    ],
)
def test_rect_from_drag_points_any_direction(points, expected):
    assert LogicalRect.from_points(*points) == expected


@pytest.mark.parametrize(
    ("rect", "usable"),
    [
        (PixelRect(0, 0, 4, 4), True),
        (PixelRect(0, 0, 3, 100), False),
        (PixelRect(5, 5, 5, 50), False),
    ],
)
def test_tiny_selections_are_not_usable(rect, usable):
    assert rect.is_usable() is usable


@pytest.mark.parametrize(
    ("anchor", "size", "area", "expected"),
    [
        ((100, 100, 200, 50), (300, 200), (0, 0, 1920, 1080), (100, 162)),  # below
        ((100, 900, 200, 50), (300, 200), (0, 0, 1920, 1080), (100, 688)),  # above
        (
            (1800, 100, 100, 50),
            (300, 200),
            (0, 0, 1920, 1080),
            (1620, 162),
        ),  # pushed left
        (
            (0, 0, 1920, 1080),
            (300, 200),
            (0, 0, 1920, 1080),
            (0, 880),
        ),  # no room: clamp
        (
            (2000, 100, 100, 50),
            (300, 200),
            (1920, 0, 1280, 800),
            (2000, 162),
        ),  # 2nd screen
    ],
)
def test_popup_position_stays_on_screen(anchor, size, area, expected):
    assert popup_position(anchor, size, area) == expected

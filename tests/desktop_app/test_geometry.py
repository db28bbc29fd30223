"""Pure geometry: window-local logical selections -> screenshot pixels."""

import pytest

from desktop_app.geometry import (
    LogicalRect,
    PixelRect,
    keep_inside,
    logical_to_pixels,
    popup_position,
    screen_for,
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


# Two screens side by side; the left one has a 32 px top panel and a 48 px bottom dock,
# so its available area is (0, 32, 1920, 1000); the right one is 1280x800 at x=1920.
LEFT_AVAILABLE = (0, 32, 1920, 1000)
RIGHT_AVAILABLE = (1920, 0, 1280, 800)


@pytest.mark.parametrize(
    ("anchor", "size", "area", "expected"),
    [
        # a selection just above the dock: no room below, so above it
        ((400, 900, 300, 60), (440, 300), LEFT_AVAILABLE, (400, 588)),
        # at the very bottom-right corner: above, and pushed left off the edge
        ((1800, 960, 120, 60), (440, 300), LEFT_AVAILABLE, (1480, 648)),
        # the bottom edge of the available area is y = 1032, not the screen's 1080
        ((100, 700, 200, 50), (440, 270), LEFT_AVAILABLE, (100, 762)),
        ((100, 700, 200, 51), (440, 270), LEFT_AVAILABLE, (100, 418)),
        # near the top panel: below, never under the panel
        ((100, 0, 200, 20), (440, 300), LEFT_AVAILABLE, (100, 32)),
        # a popup taller than the screen: top-aligned, inside
        ((100, 100, 50, 50), (440, 1200), LEFT_AVAILABLE, (100, 32)),
        # second screen, right edge and bottom: stays on that screen
        ((3100, 700, 90, 60), (440, 300), RIGHT_AVAILABLE, (2760, 388)),
        # a selection on the left screen's right edge never spills onto the right one
        ((1850, 100, 60, 40), (440, 300), LEFT_AVAILABLE, (1480, 152)),
    ],
)
def test_popup_position_inside_the_available_area(anchor, size, area, expected):
    x, y = popup_position(anchor, size, area)
    assert (x, y) == expected
    ax, ay, aw, ah = area
    assert (ax <= x and x + size[0] <= ax + aw) or size[0] > aw
    assert ay <= y and (y + size[1] <= ay + ah or size[1] > ah)


SCREENS = [(0, 0, 1920, 1080), (1920, 0, 1280, 800), (0, 1080, 1920, 1080)]


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((10, 10), 0),
        ((1919, 1079), 0),
        ((1920, 0), 1),
        ((3199, 799), 1),
        ((500, 1500), 2),
        ((2500, 1000), 1),  # below the short right screen: nearest is that screen
        ((2500, 1900), 2),  # far below-right: the bottom screen is nearer
        ((-50, 400), 0),
    ],
)
def test_screen_for_point(point, expected):
    assert screen_for(point, SCREENS) == expected


def test_screen_for_needs_a_screen():
    with pytest.raises(ValueError):
        screen_for((0, 0), [])


@pytest.mark.parametrize(
    ("position", "size", "area", "expected"),
    [
        ((100, 100), (400, 300), LEFT_AVAILABLE, (100, 100)),  # already inside
        ((100, 900), (400, 300), LEFT_AVAILABLE, (100, 732)),  # grew past the dock
        ((1700, 10), (400, 300), LEFT_AVAILABLE, (1520, 32)),  # right edge, panel
        ((1800, 600), (400, 300), RIGHT_AVAILABLE, (1920, 500)),  # left edge of screen 2
        ((5, 5), (3000, 2000), LEFT_AVAILABLE, (0, 32)),  # larger than the area
    ],
)
def test_keep_inside(position, size, area, expected):
    assert keep_inside(position, size, area) == expected

"""Overlay behaviour in-process (scale factors are covered by test_overlay_scaling)."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage

from desktop_app.capture import ScreenShot
from desktop_app.ui.overlay import OverlaySet, crop


@pytest.fixture
def overlays(qapp, qtbot):
    screen = qapp.primaryScreen()
    image = QImage(
        screen.geometry().size() * screen.devicePixelRatio(), QImage.Format.Format_RGB32
    )
    image.fill(QColor("white"))
    image.setDevicePixelRatio(screen.devicePixelRatio())
    shots = [ScreenShot(0, screen.name(), screen.geometry(), image)]
    overlay_set = OverlaySet(shots)
    overlay_set.open()
    window = overlay_set.windows[0]
    qtbot.waitExposed(window)
    yield overlay_set, window
    overlay_set.close()


def test_drag_selects_and_closes_all(overlays, qtbot):
    overlay_set, window = overlays
    with qtbot.waitSignal(overlay_set.selected) as selected:
        qtbot.mousePress(window, Qt.MouseButton.LeftButton, pos=QPoint(100, 120))
        qtbot.mouseMove(window, QPoint(150, 140))
        window.grab()  # paints the selection (dim, border, size label) without errors
        qtbot.mouseRelease(window, Qt.MouseButton.LeftButton, pos=QPoint(300, 200))
    shot, pixels, anchor = selected.args
    assert (pixels.left, pixels.top, pixels.right, pixels.bottom) == (
        100,
        120,
        300,
        200,
    )
    assert (anchor.x(), anchor.y(), anchor.width(), anchor.height()) == (
        100,
        120,
        200,
        80,
    )
    assert crop(shot, pixels).size().toTuple() == (200, 80)
    assert overlay_set.windows == []


def test_drag_up_and_left_works_too(overlays, qtbot):
    overlay_set, window = overlays
    with qtbot.waitSignal(overlay_set.selected) as selected:
        qtbot.mousePress(window, Qt.MouseButton.LeftButton, pos=QPoint(300, 200))
        qtbot.mouseRelease(window, Qt.MouseButton.LeftButton, pos=QPoint(100, 120))
    assert selected.args[1].left == 100 and selected.args[1].bottom == 200


def test_click_without_drag_is_not_a_selection(overlays, qtbot):
    overlay_set, window = overlays
    with qtbot.assertNotEmitted(overlay_set.selected):
        qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    assert overlay_set.windows == [window]  # still selecting


@pytest.mark.parametrize("how", ["escape", "right-click"])
def test_escape_or_right_click_cancels(overlays, qtbot, how):
    overlay_set, window = overlays
    with (
        qtbot.waitSignal(overlay_set.cancelled),
        qtbot.assertNotEmitted(overlay_set.selected),
    ):
        if how == "escape":
            qtbot.keyClick(window, Qt.Key.Key_Escape)
        else:
            qtbot.mouseClick(window, Qt.MouseButton.RightButton, pos=QPoint(10, 10))
    assert overlay_set.windows == []

"""Handler registries: preference order, forcing, probing failures, platform matrix."""

import enum
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QRect

from desktop_app import capture, clipboard, platform_info
from desktop_app.capture.handlers import mss_grab, xdg_portal
from desktop_app.capture.models import CaptureError, CaptureMethod
from desktop_app.clipboard.models import ClipboardMethod
from desktop_app.handlers import HandlerRegistry


class Method(enum.Enum):
    FIRST = "first"
    SECOND = "second"
    BROKEN = "broken"


def _module(compatible=True, installed=True):
    return SimpleNamespace(
        is_compatible=lambda: compatible, is_installed=lambda: installed
    )


def _raising():
    def probe():
        raise RuntimeError("probe bug")

    return SimpleNamespace(is_compatible=probe, is_installed=lambda: True)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ((True, True), (True, True), [Method.FIRST, Method.SECOND]),
        ((False, True), (True, True), [Method.SECOND]),
        ((True, False), (True, True), [Method.SECOND]),
        ((False, False), (False, True), []),
    ],
)
def test_available_in_preference_order(first, second, expected):
    registry = HandlerRegistry(
        Method,
        {
            Method.FIRST: _module(*first),
            Method.SECOND: _module(*second),
            Method.BROKEN: _raising(),
        },
    )
    assert registry.available() == expected


@pytest.mark.parametrize(
    ("forced", "expected"),
    [
        ("auto", [Method.FIRST]),
        (None, [Method.FIRST]),
        ("second", [Method.SECOND]),  # forced even though its probe says no
        ("nonsense", [Method.FIRST]),
    ],
)
def test_forced_handler(forced, expected):
    registry = HandlerRegistry(
        Method,
        {
            Method.FIRST: _module(),
            Method.SECOND: _module(False, False),
            Method.BROKEN: _module(False),
        },
    )
    assert [m for m, _ in registry.ordered(forced)] == expected


@pytest.mark.parametrize(
    ("wayland", "qt_platform", "expected"),
    [
        (False, "xcb", [CaptureMethod.QT, CaptureMethod.MSS]),
        (False, "offscreen", [CaptureMethod.QT]),
        (True, "wayland", [CaptureMethod.PORTAL]),
        # XWayland: Qt grabs what X11 can see; the portal stays available
        (True, "xcb", [CaptureMethod.QT, CaptureMethod.PORTAL]),
    ],
)
def test_capture_matrix(monkeypatch, qapp, wayland, qt_platform, expected):
    monkeypatch.setattr(platform_info, "os_name", lambda: "linux")
    monkeypatch.setattr(platform_info, "is_wayland", lambda: wayland)
    monkeypatch.setattr(platform_info, "qt_platform_name", lambda: qt_platform)
    monkeypatch.setattr(mss_grab, "is_installed", lambda: True)
    monkeypatch.setattr(xdg_portal, "is_installed", lambda: True)
    assert capture.registry().available() == expected


@pytest.mark.parametrize(
    ("qt_platform", "pyperclip_works", "expected"),
    [
        ("xcb", True, [ClipboardMethod.PYPERCLIP, ClipboardMethod.QT]),
        ("xcb", False, [ClipboardMethod.QT]),
        ("offscreen", True, [ClipboardMethod.QT]),
    ],
)
def test_clipboard_matrix(monkeypatch, qapp, qt_platform, pyperclip_works, expected):
    import pyperclip

    from desktop_app.clipboard.handlers import pyperclip_copy

    # pyperclip's own "no clipboard" pair is falsy; a found tool is a plain function
    backend = (
        pyperclip.init_no_clipboard()
        if not pyperclip_works
        else (lambda text: None, lambda: "")
    )
    pyperclip_copy._backend_found.cache_clear()
    monkeypatch.setattr(platform_info, "qt_platform_name", lambda: qt_platform)
    monkeypatch.setattr(pyperclip, "determine_clipboard", lambda: backend)
    assert clipboard.registry().available() == expected
    pyperclip_copy._backend_found.cache_clear()


def test_grab_all_screens_offscreen(qapp):
    shots = capture.grab_all_screens()
    assert len(shots) == len(qapp.screens())
    shot = shots[0]
    ratio = qapp.screens()[0].devicePixelRatio()
    assert shot.image.width() == round(shot.geometry.width() * ratio)


def test_grab_failure_is_one_clear_error(monkeypatch, qapp):
    def broken():
        raise RuntimeError("display gone")

    from desktop_app.capture.handlers import qt_grab

    monkeypatch.setattr(qt_grab, "capture", broken)
    with pytest.raises(CaptureError, match="display gone"):
        capture.grab_all_screens("qt")


def test_copy_text_falls_back_to_the_next_writer(monkeypatch, qapp):
    from desktop_app.clipboard.handlers import pyperclip_copy

    def failing(_text):
        raise RuntimeError("no xclip")

    monkeypatch.setattr(platform_info, "qt_platform_name", lambda: "xcb")
    monkeypatch.setattr(pyperclip_copy, "is_installed", lambda: True)
    monkeypatch.setattr(pyperclip_copy, "copy", failing)
    assert clipboard.copy_text("x^2") == "qt"
    assert qapp.clipboard().text() == "x^2"


def _screen(name, x, y, w, h, dpr):
    return SimpleNamespace(
        name=lambda: name,
        geometry=lambda: QRect(x, y, w, h),
        devicePixelRatio=lambda: dpr,
    )


@pytest.mark.parametrize(
    ("screen", "index", "expected_left"),
    [
        (_screen("a", 0, 0, 960, 540, 2.0), 0, 0),  # 1920x1080 physical
        (_screen("b", 1920, 0, 1280, 800, 1.0), 1, 1920),
        (_screen("c", 3200, 0, 1280, 800, 1.0), 2, 3200),  # same size: origin decides
    ],
)
def test_mss_monitor_matching(screen, index, expected_left):
    monitors = [
        {"left": 0, "top": 0, "width": 1920, "height": 1080},
        {"left": 1920, "top": 0, "width": 1280, "height": 800},
        {"left": 3200, "top": 0, "width": 1280, "height": 800},
    ]
    assert mss_grab.match_monitor(screen, index, monitors)["left"] == expected_left


def test_wayland_without_a_grabber_explains_the_clipboard_way(monkeypatch, qapp):
    monkeypatch.setattr(platform_info, "is_wayland", lambda: True)
    monkeypatch.setattr(platform_info, "qt_platform_name", lambda: "wayland")
    monkeypatch.setattr(xdg_portal, "is_installed", lambda: False)
    with pytest.raises(CaptureError, match="From clipboard"):
        capture.grab_all_screens()

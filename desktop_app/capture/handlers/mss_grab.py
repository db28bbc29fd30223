"""Grab with mss and pair each monitor with its Qt screen by physical size."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from PySide6.QtGui import QGuiApplication, QImage, QScreen

from desktop_app import platform_info
from desktop_app.capture.models import CaptureError, ScreenShot

logger = logging.getLogger(__name__)

install_instructions = "pip install mss"


def is_compatible() -> bool:
    # mss reads the X server / GDI / CoreGraphics: no Wayland, no fake Qt screens.
    return not platform_info.is_wayland() and not platform_info.is_headless()


def is_installed() -> bool:
    return importlib.util.find_spec("mss") is not None


def _physical_size(screen: QScreen) -> tuple[int, int]:
    ratio = screen.devicePixelRatio()
    return round(screen.geometry().width() * ratio), round(
        screen.geometry().height() * ratio
    )


def match_monitor(
    screen: QScreen, index: int, monitors: list[dict[str, Any]]
) -> dict[str, Any]:
    """The mss monitor showing ``screen``: same physical size (and origin if tied)."""
    width, height = _physical_size(screen)
    same_size = [m for m in monitors if (m["width"], m["height"]) == (width, height)]
    origin = screen.geometry().topLeft()
    for monitor in same_size:
        if (monitor["left"], monitor["top"]) == (origin.x(), origin.y()):
            return monitor
    if same_size:
        return same_size[0]
    if index < len(monitors):
        return monitors[index]
    raise CaptureError(f"no monitor matches screen {screen.name()}")


def capture() -> list[ScreenShot]:
    import mss

    shots = []
    with mss.mss() as grabber:
        monitors = grabber.monitors[1:]  # [0] is the union of all monitors
        for index, screen in enumerate(QGuiApplication.screens()):
            raw = grabber.grab(match_monitor(screen, index, monitors))
            # mss gives BGRA bytes, which is QImage's little-endian RGB32 layout.
            image = QImage(
                raw.bgra, raw.width, raw.height, QImage.Format.Format_RGB32
            ).copy()
            image.setDevicePixelRatio(screen.devicePixelRatio())
            shots.append(ScreenShot(index, screen.name(), screen.geometry(), image))
    return shots

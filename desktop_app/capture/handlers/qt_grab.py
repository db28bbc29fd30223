"""Grab each screen with ``QScreen.grabWindow(0)`` (physical pixels, per screen)."""

from __future__ import annotations

import logging

from PySide6.QtGui import QGuiApplication

from desktop_app import platform_info
from desktop_app.capture.models import CaptureError, ScreenShot

logger = logging.getLogger(__name__)

install_instructions = "Part of Qt; nothing to install."


def is_compatible() -> bool:
    # Wayland compositors refuse client-side grabs (Qt returns black frames there).
    return not (
        platform_info.is_wayland() and platform_info.qt_platform_name() == "wayland"
    )


def is_installed() -> bool:
    return QGuiApplication.instance() is not None


def capture() -> list[ScreenShot]:
    shots = []
    for index, screen in enumerate(QGuiApplication.screens()):
        image = screen.grabWindow(0).toImage()
        if image.isNull():
            raise CaptureError(f"Qt could not grab screen {screen.name() or index}")
        logger.debug(
            "grabbed %s: logical %s, image %dx%d",
            screen.name(),
            screen.geometry(),
            image.width(),
            image.height(),
        )
        shots.append(ScreenShot(index, screen.name(), screen.geometry(), image))
    return shots

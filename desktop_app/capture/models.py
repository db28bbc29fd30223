"""Capture types: a frozen frame per screen, and the handler family's ranking."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage


class CaptureError(RuntimeError):
    """No screen could be grabbed; the message is shown to the user as is."""


@dataclass(frozen=True)
class ScreenShot:
    """One screen's frozen frame. ``geometry`` is Qt's logical geometry of the screen
    (where its overlay goes); ``image`` is in physical pixels."""

    index: int
    name: str
    geometry: QRect
    image: QImage


class CaptureMethod(enum.Enum):
    """Order = preference. Values name the module under capture/handlers/."""

    # Qt's own grab: X11, Windows, macOS and the offscreen test platform; it returns
    # each screen in physical pixels with the right devicePixelRatio.
    QT = "qt_grab"
    # xdg-desktop-portal Screenshot: the sanctioned way on Wayland (and in Flatpak);
    # one full-desktop image, split per screen; may ask for permission once.
    PORTAL = "xdg_portal"
    # mss (ctypes XGetImage / GDI / CoreGraphics): a fallback when a Qt plugin grabs
    # black frames; it knows nothing about Qt screens, so frames are matched by size.
    MSS = "mss_grab"

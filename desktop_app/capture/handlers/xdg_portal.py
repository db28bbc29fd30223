"""Grab the desktop through ``org.freedesktop.portal.Screenshot`` (Wayland, Flatpak).

The portal returns one image of the whole desktop (it may ask the user for permission
the first time); it is split into per-screen frames with the image-to-desktop ratio, so
the rest of the capture path is the same as for the Qt grab. Waiting for the portal's
``Response`` signal runs a local event loop: the UI keeps painting meanwhile.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from PySide6.QtCore import SLOT, QEventLoop, QObject, QRect, QTimer, QUrl, Slot
from PySide6.QtGui import QGuiApplication, QImage

from desktop_app import platform_info
from desktop_app.capture.models import CaptureError, ScreenShot

logger = logging.getLogger(__name__)

install_instructions = (
    "xdg-desktop-portal plus the backend for your desktop "
    "(xdg-desktop-portal-gnome, -kde or -wlr)"
)

SERVICE = "org.freedesktop.portal.Desktop"
OBJECT = "/org/freedesktop/portal/desktop"
INTERFACE = "org.freedesktop.portal.Screenshot"
REQUEST_INTERFACE = "org.freedesktop.portal.Request"
# The first call may show a permission dialog: give the user time to answer it.
TIMEOUT_MS = 60_000


def is_compatible() -> bool:
    # On X11 the Qt grab is silent and exact; the portal is for Wayland sessions.
    return platform_info.os_name() == "linux" and platform_info.is_wayland()


def is_installed() -> bool:
    try:
        from PySide6.QtDBus import QDBusConnection
    except ImportError:
        return False
    return QDBusConnection.sessionBus().isConnected()


class _Response(QObject):
    """Receives the portal's Request.Response(uint code, a{sv} results)."""

    def __init__(self, loop: QEventLoop):
        super().__init__()
        self.loop = loop
        self.code: int | None = None
        self.results: dict = {}

    @Slot("uint", "QVariantMap")
    def on_response(self, code: int, results: dict) -> None:
        self.code, self.results = int(code), dict(results)
        self.loop.quit()


def request_screenshot(timeout_ms: int = TIMEOUT_MS) -> Path:
    """Ask the portal for a non-interactive full-desktop screenshot; its file path."""
    from PySide6.QtDBus import QDBusConnection, QDBusInterface, QDBusMessage

    bus = QDBusConnection.sessionBus()
    token = f"snaptex_{uuid.uuid4().hex[:12]}"
    sender = bus.baseService().lstrip(":").replace(".", "_")
    request_path = f"{OBJECT}/request/{sender}/{token}"
    loop = QEventLoop()
    response = _Response(loop)
    # Subscribe before calling: a fast portal may answer before call() returns.
    slot = SLOT("on_response(uint,QVariantMap)")
    if not bus.connect("", request_path, REQUEST_INTERFACE, "Response", response, slot):
        raise CaptureError("could not listen to the screenshot portal")
    portal = QDBusInterface(SERVICE, OBJECT, INTERFACE, bus)
    reply = portal.call("Screenshot", "", {"handle_token": token, "interactive": False})
    if reply.type() == QDBusMessage.MessageType.ErrorMessage:
        raise CaptureError(f"the screenshot portal failed: {reply.errorMessage()}")
    if response.code is None:
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
    if response.code is None:
        raise CaptureError("the screenshot portal did not answer")
    if response.code != 0:
        raise CaptureError("the screenshot was cancelled or not allowed")
    return Path(QUrl(str(response.results.get("uri", ""))).toLocalFile())


def split_desktop(image_width: int, screens: list[QRect]) -> tuple[float, list[QRect]]:
    """Pixel rectangles of each screen in a full-desktop image, and the ratio used.

    Screens are in Qt's logical desktop coordinates; the portal image spans their
    bounding box, so one ratio (image width / desktop width) maps both axes.
    """
    desktop = QRect()
    for geometry in screens:
        desktop = desktop.united(geometry)
    ratio = image_width / desktop.width()
    rects = [
        QRect(
            round((g.x() - desktop.x()) * ratio),
            round((g.y() - desktop.y()) * ratio),
            round(g.width() * ratio),
            round(g.height() * ratio),
        )
        for g in screens
    ]
    return ratio, rects


def capture() -> list[ScreenShot]:
    path = request_screenshot()
    image = QImage(str(path))
    try:
        path.unlink()  # our temporary grab, not a screenshot the user asked to keep
    except OSError:
        logger.warning("could not remove the portal's screenshot %s", path)
    if image.isNull():
        raise CaptureError(f"could not read the portal's screenshot {path.name}")
    screens = QGuiApplication.screens()
    ratio, rects = split_desktop(image.width(), [s.geometry() for s in screens])
    shots = []
    for index, (screen, rect) in enumerate(zip(screens, rects, strict=True)):
        frame = image.copy(rect)
        frame.setDevicePixelRatio(ratio)
        shots.append(ScreenShot(index, screen.name(), screen.geometry(), frame))
    return shots

"""Grab every screen before any overlay is shown, via the first handler that works."""

from __future__ import annotations

import importlib
import logging

from desktop_app import platform_info
from desktop_app.capture.models import CaptureError, CaptureMethod, ScreenShot
from desktop_app.handlers import HandlerRegistry

logger = logging.getLogger(__name__)

WAYLAND_HINT = (
    "Or take an area screenshot to the clipboard with your desktop's own tool, "
    "then use From clipboard (or Ctrl+V here)."
)

__all__ = [
    "CaptureError",
    "CaptureMethod",
    "ScreenShot",
    "grab_all_screens",
    "registry",
]


def registry() -> HandlerRegistry[CaptureMethod]:
    modules = {
        m: importlib.import_module(f"desktop_app.capture.handlers.{m.value}")
        for m in CaptureMethod
    }
    return HandlerRegistry(CaptureMethod, modules)


def grab_all_screens(method: str = "auto") -> list[ScreenShot]:
    """One frozen frame per screen; raises CaptureError with a user-facing message."""
    failures = []
    for name, module in registry().ordered(method):
        try:
            shots = module.capture()
        except Exception as exc:  # a handler failing is expected: try the next one
            logger.exception("capture with %s failed", name.name)
            failures.append(f"{name.name.lower()}: {exc}")
            continue
        if shots:
            return shots
        failures.append(f"{name.name.lower()}: no screens")
    detail = "; ".join(failures) or "no capture method works on this system"
    hint = f" {WAYLAND_HINT}" if platform_info.is_wayland() else ""
    raise CaptureError(f"Could not capture the screen ({detail}).{hint}")

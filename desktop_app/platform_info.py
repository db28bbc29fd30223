"""The one place that reads sys.platform, the environment and ``shutil.which``.

Everything else asks these cached functions, so platform decisions are greppable and
tests can monkeypatch a single module (and clear the caches).
"""

from __future__ import annotations

import functools
import getpass
import os
import shutil
import sys
from pathlib import Path

from desktop_app import APP_ID


@functools.cache
def os_name() -> str:
    """ "linux", "windows" or "macos" (anything else is reported as is)."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return sys.platform


@functools.cache
def is_wayland() -> bool:
    return bool(os.environ.get("WAYLAND_DISPLAY")) or (
        os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    )


@functools.cache
def desktop_environment() -> str:
    return os.environ.get("XDG_CURRENT_DESKTOP", "").lower()


def qt_platform_requested() -> str:
    """QT_QPA_PLATFORM as the user set it ("" when unset): read before Qt starts."""
    return os.environ.get("QT_QPA_PLATFORM", "").strip().lower()


def display_servers() -> tuple[bool, bool]:
    """(an X display is set, a Wayland display is set), from DISPLAY / WAYLAND_DISPLAY."""
    return bool(os.environ.get("DISPLAY")), bool(os.environ.get("WAYLAND_DISPLAY"))


def os_release() -> str:
    """The text of /etc/os-release (or /usr/lib/os-release); "" when there is none."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return ""


def qt_platform_name() -> str:
    """Qt's platform plugin ("xcb", "wayland", "offscreen", ...); not cached: it
    is only known once the QGuiApplication exists."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() if QGuiApplication.instance() else ""


def is_headless() -> bool:
    """Offscreen/minimal platforms have an in-process clipboard and fake screens."""
    return qt_platform_name() in ("offscreen", "minimal")


@functools.cache
def has_executable(name: str) -> bool:
    return shutil.which(name) is not None


def which(name: str) -> str | None:
    return shutil.which(name)


@functools.cache
def is_frozen() -> bool:
    """A PyInstaller-style bundle relaunches itself as the worker."""
    return bool(getattr(sys, "frozen", False))


@functools.cache
def instance_name() -> str:
    """Per-user name of the single-instance socket; SNAPTEX_INSTANCE overrides it
    so tests and support sessions never talk to the user's running app."""
    override = os.environ.get("SNAPTEX_INSTANCE")
    if override:
        return override
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "user"
    return f"{APP_ID}-{user}"


def clear_caches() -> None:
    for func in (
        os_name,
        is_wayland,
        desktop_environment,
        has_executable,
        is_frozen,
        instance_name,
    ):
        func.cache_clear()

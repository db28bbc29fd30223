"""Start at login: an XDG autostart entry, a Windows Run key, or a macOS LaunchAgent."""

from __future__ import annotations

import logging
import plistlib
import shlex
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from desktop_app import APP_ID, platform_info

logger = logging.getLogger(__name__)

WINDOWS_RUN_KEY = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run"
MAC_LABEL = "io.snaptex.app"


def launch_command() -> list[str]:
    """How the login session should start us: the installed script if any."""
    script = platform_info.which(APP_ID)
    return [script] if script else [sys.executable, "-m", "desktop_app"]


def xdg_entry_path() -> Path:
    config = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.GenericConfigLocation
    )
    return Path(config) / "autostart" / f"{APP_ID}.desktop"


def mac_agent_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{MAC_LABEL}.plist"


def desktop_entry(command: list[str]) -> str:
    return (
        "[Desktop Entry]\nType=Application\nName=SnapTeX\n"
        "Comment=Snip an equation, get LaTeX\n"
        f"Exec={shlex.join(command)}\nIcon=accessories-calculator\n"
        "X-GNOME-Autostart-enabled=true\nTerminal=false\n"
    )


def set_enabled(enabled: bool, command: list[str] | None = None) -> None:
    """Create or remove this platform's login item; errors are logged and re-raised
    as OSError for the caller to show."""
    command = command or launch_command()
    system = platform_info.os_name()
    if system == "windows":
        store = QSettings(WINDOWS_RUN_KEY, QSettings.Format.NativeFormat)
        if enabled:
            store.setValue("SnapTeX", " ".join(f'"{part}"' for part in command))
        else:
            store.remove("SnapTeX")
        return
    path = mac_agent_path() if system == "macos" else xdg_entry_path()
    if not enabled:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if system == "macos":
        path.write_bytes(
            plistlib.dumps(
                {"Label": MAC_LABEL, "ProgramArguments": command, "RunAtLoad": True}
            )
        )
    else:
        path.write_text(desktop_entry(command), encoding="utf-8")
    logger.info("start at login enabled: %s", path)

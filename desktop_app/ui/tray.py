"""The tray icon and its menu. It only emits intents and shows state and messages.

Where the desktop has no system tray, notices go to SnapTeX's own notice window
(which also carries the menu) instead of balloon messages nobody would see.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from desktop_app.ui import icons
from desktop_app.ui.notice_window import NoticeWindow

logger = logging.getLogger(__name__)

STATE_LABELS = {
    "loading": "loading",
    "ready": "ready",
    "busy": "recognising",
    "error": "error",
}


class Tray(QObject):
    snip = Signal()
    from_clipboard = Signal()
    open_image = Signal()
    history = Signal()
    settings = Signal()
    show_log = Signal()
    quit = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        tray_available: Callable[[], bool] | None = None,
    ):
        super().__init__(parent)
        self._tray_available = tray_available or QSystemTrayIcon.isSystemTrayAvailable
        self.notice: NoticeWindow | None = None
        self.menu = QMenu()
        self.actions: dict[str, QAction] = {}
        for name, label in (
            ("snip", "Snip region"),
            ("from_clipboard", "From clipboard"),
            ("open_image", "Open image…"),
            ("history", "History"),
            ("settings", "Settings"),
            (None, None),
            ("show_log", "Show log"),
            ("quit", "Quit"),
        ):
            if name is None:
                self.menu.addSeparator()
                continue
            action = self.menu.addAction(label)
            action.triggered.connect(getattr(self, name).emit)
            self.actions[name] = action
        self.status_action = QAction("Starting…", self.menu)
        self.status_action.setEnabled(False)
        self.menu.insertAction(self.actions["snip"], self.status_action)
        self.menu.insertSeparator(self.actions["snip"])
        self.icon = QSystemTrayIcon(icons.icon("loading"), self)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.state = "loading"
        self.set_worker_state("loading", "starting")

    def show(self) -> None:
        if not self.has_tray():
            logger.warning("no system tray here: use `snaptex snip` from a shortcut")
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()
        if self.notice is not None:
            self.notice.close()

    def has_tray(self) -> bool:
        return bool(self._tray_available())

    def notice_window(self) -> NoticeWindow:
        if self.notice is None:
            self.notice = NoticeWindow(self.menu)
            self.notice.snip.connect(self.snip)
        return self.notice

    def show_first_run_hint(self) -> None:
        """Say how to start a snip where there is no tray icon to click."""
        self.notice_window().show_first_run()

    def set_worker_state(self, state: str, detail: str) -> None:
        self.state = state
        label = STATE_LABELS.get(state, state)
        text = detail if detail.lower().startswith(label) else f"{label}: {detail}"
        self.icon.setIcon(icons.icon(state))
        self.icon.setToolTip(f"SnapTeX — {text}")
        self.status_action.setText(f"Recogniser {text}")

    def notify(self, title: str, message: str, error: bool = False) -> None:
        kind = (
            QSystemTrayIcon.MessageIcon.Warning
            if error
            else QSystemTrayIcon.MessageIcon.Information
        )
        logger.info("notify: %s: %s", title, message)
        if not self.has_tray():
            self.notice_window().show_notice(title, message, error)
        elif self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, message, kind, 5000)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # A left click snips: the most common action is one click away.
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.snip.emit()

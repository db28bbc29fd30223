"""Composition root: builds the QApplication and the parts, wires their signals.

Imported only once a launch knows it is *the* instance (``app.main``), so a forwarding
``snaptex snip`` never pays for widgets, the preview or the worker client.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QSettings, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog

from desktop_app import APP_ID, autostart, logging_setup, preview
from desktop_app import history as history_module
from desktop_app.controller import Controller
from desktop_app.qt_compat import make_timer
from desktop_app.settings import Settings, cli_overrides
from desktop_app.single_instance import InstanceServer
from desktop_app.ui import icons
from desktop_app.ui.history_window import HistoryWindow
from desktop_app.ui.result_popup import ResultPopup
from desktop_app.ui.settings_dialog import SettingsDialog
from desktop_app.ui.tray import Tray
from desktop_app.worker_client import WorkerClient, worker_command

logger = logging.getLogger(__name__)

WORKER_KEYS = ("model_dir", "device", "threads")
NO_TRAY_HINT_SHOWN = "no_tray_hint_shown"
IMAGE_FILTER = (
    "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"
)


def worker_argv(settings: Settings) -> list[str]:
    return worker_command(
        settings.get("model_dir"), settings.get("device"), settings.get("threads")
    )


class SnapTeXApp(QObject):
    """Builds the parts and wires their signals; holds no behaviour of its own."""

    def __init__(
        self,
        settings: Settings,
        command: list[str] | None = None,
        history_path: Path | None = None,
        **controller_ports: Any,
    ):
        super().__init__()
        self.settings = settings
        self._fixed_command = command
        self.worker = WorkerClient(
            command or worker_argv(settings),
            timeout_s=settings.get("request_timeout_s"),
            parent=self,
        )
        self._history_problem = ""
        self.history = self._open_history(history_path or history_module.default_path())
        self.popup = ResultPopup()
        self.controller = Controller(
            settings,
            self.worker,
            self.popup,
            self.history,
            parent=self,
            **controller_ports,
        )
        self.tray = Tray(self)
        self.history_window: HistoryWindow | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._wire()

    def _open_history(self, path: Path) -> history_module.History:
        """The history file, or an in-memory one for this session if the file is
        unusable (corrupt, read-only): losing history must not stop the app."""
        size = self.settings.get("history_size")
        try:
            return history_module.History(path, size)
        except (sqlite3.Error, OSError) as exc:
            logger.exception("history at %s is unusable", path)
            self._history_problem = f"History is kept for this session only ({exc})."
            return history_module.History(Path(":memory:"), size)

    def _wire(self) -> None:
        tray, controller = self.tray, self.controller
        tray.snip.connect(controller.start_capture)
        tray.from_clipboard.connect(controller.from_clipboard)
        tray.open_image.connect(self.open_image)
        tray.history.connect(self.show_history)
        tray.settings.connect(self.show_settings)
        tray.show_log.connect(self.show_log)
        tray.quit.connect(QApplication.quit)
        controller.notify.connect(tray.notify)
        self.worker.state_changed.connect(self._on_worker_state)
        self.settings.value_changed.connect(self._on_setting_changed)

    def start(self) -> None:
        self.tray.show()
        if not self.tray.has_tray() and not self.settings.state(NO_TRAY_HINT_SHOWN):
            self.tray.show_first_run_hint()
            self.settings.set_state(NO_TRAY_HINT_SHOWN, True)
        if self._history_problem:
            self.tray.notify("SnapTeX history", self._history_problem, error=True)
        self.worker.start()
        preview.warm_up_in_background()

    def shutdown(self) -> None:
        for window in (
            self.history_window,
            self.settings_dialog,
            self.popup,
            self.tray.notice,
        ):
            if window is not None:
                window.close()
        self.worker.close()
        self.history.close()
        self.tray.hide()

    def handle_command(self, command: str) -> None:
        if command == "quit":
            QApplication.quit()
        elif command == "show":
            self.tray.notify("SnapTeX", "SnapTeX is already running in the tray.")
        else:
            self.controller.handle_command(command)

    # -- windows -------------------------------------------------------------------

    def open_image(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            None, "Open equation image", "", IMAGE_FILTER
        )
        self.controller.open_files(paths)

    def show_history(self) -> None:
        if self.history_window is None:
            self.history_window = HistoryWindow(self.history)
            self.history_window.copy_requested.connect(
                self.controller.copy_from_history
            )
        self.history_window.open_window()

    def show_settings(self) -> None:
        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(self.settings)
        self.settings_dialog.show()
        self.settings_dialog.raise_()

    def show_log(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(logging_setup.log_file())))

    # -- reactions -----------------------------------------------------------------

    def _on_worker_state(self, state: str, detail: str) -> None:
        previous = self.tray.state
        self.tray.set_worker_state(state, detail)
        if state == "error" and previous != "error":
            self.tray.notify("SnapTeX recogniser", detail, error=True)

    def _on_setting_changed(self, key: str, value: Any) -> None:
        if key in WORKER_KEYS and self._fixed_command is None:
            self.worker.restart(worker_argv(self.settings))
        elif key == "request_timeout_s":
            self.worker.timeout_s = float(value)
        elif key == "history_size":
            self.history.set_max_entries(int(value))
        elif key == "start_at_login":
            try:
                autostart.set_enabled(bool(value))
            except OSError as exc:
                self.tray.notify(
                    "Start at login", f"Could not change it: {exc}", error=True
                )


def make_qapplication() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_ID)
    app.setOrganizationName(APP_ID)
    app.setApplicationDisplayName("SnapTeX")
    app.setQuitOnLastWindowClosed(False)  # a tray app lives on with no window open
    app.setWindowIcon(icons.icon())
    return app


def quit_on_signals(app: QApplication) -> QTimer:
    """Ctrl+C / SIGTERM quit cleanly (worker shut down); the timer lets Python run
    its signal handlers while Qt's event loop is in C++."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    timer = make_timer(None, 300)
    timer.timeout.connect(lambda: None)
    timer.start()
    return timer


def run(args: argparse.Namespace, command: str) -> int:
    """Be the running instance: tray, worker, single-instance server, event loop."""
    app = make_qapplication()
    logging_setup.configure(args.log_level)
    server = InstanceServer()
    server.listen()
    settings = Settings(QSettings(APP_ID, APP_ID), cli_overrides(args))
    worker_cmd = shlex.split(args.worker_command) if args.worker_command else None
    parts = SnapTeXApp(settings, worker_cmd)
    server.command_received.connect(parts.handle_command)
    parts.start()
    if command in ("snip", "clipboard"):
        QTimer.singleShot(0, lambda: parts.handle_command(command))
    keep_alive = quit_on_signals(app)
    try:
        return app.exec()
    finally:
        keep_alive.stop()
        parts.shutdown()
        server.close()
        # Destroy every window now, while Python and the QApplication both live: left to
        # the interpreter's teardown, a window's Python event handlers (hideEvent, ...)
        # can run after their wrappers are gone, and the process dies of SIGSEGV.
        for window in QApplication.topLevelWidgets():
            shiboken6.delete(window)
        preview.finish_warm_up()
